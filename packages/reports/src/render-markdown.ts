import { hasMaskingWarning, isDegenerate } from './diagnostics.js';
import type { AttackSummary, Diagnostic, Interval, ModelResults, ResultsFile, TeacherInfo, ThreatModelResult } from './schema.js';

/** A number as a percentage (or "n/a"), with ± std when given. */
export function percent(value: number | null | undefined, spread?: unknown): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = `${(value * 100).toFixed(1)}`;
  return typeof spread === 'number' && Number.isFinite(spread) ? `${text} ± ${(spread * 100).toFixed(1)}` : text;
}

/** A rate as a percentage with ± std across seeds and its 95 % interval: "81.0 ± 1.2 [72.2, 87.5]". */
export function rate(value: number | null | undefined, interval?: Interval | null, spread?: unknown): string {
  const text = percent(value, spread);
  if (text === 'n/a' || !interval) return text;
  return `${text} [${(interval[0] * 100).toFixed(1)}, ${(interval[1] * 100).toFixed(1)}]`;
}

function plain(value: number | null | undefined, digits: number, spread?: unknown): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(digits);
  return typeof spread === 'number' && Number.isFinite(spread) ? `${text} ± ${spread.toFixed(digits)}` : text;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map((_, i) => (i < leftColumns ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

/** Attack keys across models, in first-seen order. */
export function attackColumns(results: ResultsFile): string[] {
  const keys: string[] = [];
  for (const model of Object.values(results.models)) for (const key of Object.keys(model.attacks)) if (!keys.includes(key)) keys.push(key);
  return keys;
}

/** Threat-model keys across models, in first-seen order. */
export function threatModelColumns(results: ResultsFile): string[] {
  const keys: string[] = [];
  for (const model of Object.values(results.models)) for (const key of Object.keys(model.threatModels ?? {})) if (!keys.includes(key)) keys.push(key);
  return keys;
}

const NORM_LABEL = { linf: 'L∞', l2: 'L2', l0: 'L0' } as const;

/** "L∞ ε = 0.3" for a threat-model key. */
export function threatModelLabel(results: ResultsFile, key: string): string {
  for (const model of Object.values(results.models)) {
    const tm = model.threatModels?.[key];
    if (tm) return `${NORM_LABEL[tm.norm]} ε = ${tm.epsilon}`;
  }
  return key;
}

/** The first table's teacher cell: the teacher's name and how it was trained, or — for a model without one. */
function teacherOf(model: ModelResults): string {
  const teacher = model.teacher;
  if (!teacher) return '—';
  if (teacher.source === 'loaded') return `${teacher.name} (loaded)`;
  return teacher.method ? `${teacher.name} (${teacher.method})` : teacher.name;
}

/** One line saying how a teacher was made, e.g. "teacher: trained with trades (beta 6, epsilon 0.3, …) on papernot-mnist". */
export function teacherDescription(teacher: TeacherInfo): string {
  const params = Object.entries(teacher.methodParams ?? {})
    .filter(([, v]) => typeof v !== 'object')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  const method = teacher.method ? `${teacher.method}${params ? ` (${params})` : ''}` : 'an unknown method';
  const model = teacher.model ? ` on ${teacher.model}` : '';
  if (teacher.source === 'loaded') return `${teacher.name}: loaded from ${teacher.path ?? 'a file'}`;
  if (teacher.source === 'student') return `${teacher.name}, a model of this run: trained with ${method}${model}`;
  return `${teacher.name}: trained with ${method}${model}`;
}

function spreadOf(model: ModelResults, ...path: string[]): unknown {
  let node: unknown = model.std;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function modelLabel(name: string, model: ModelResults): string {
  return `${name}${isDegenerate(model.diagnostics) ? ' (degenerate)' : hasMaskingWarning(model.diagnostics) ? ' ⚠' : ''}`;
}

/** The first table: one row per model, clean accuracy and robust accuracy per threat model. */
function summaryTable(results: ResultsFile): string[] {
  const threatModels = threatModelColumns(results);
  const header = ['Model', 'Method', 'Teacher', 'Clean acc. (%)', ...threatModels.map((k) => `Robust acc. ${threatModelLabel(results, k)} (%)`)];
  const rows = Object.entries(results.models).map(([name, m]) => [
    modelLabel(name, m),
    m.method,
    teacherOf(m),
    rate(m.cleanAccuracy, m.cleanAccuracyInterval, spreadOf(m, 'cleanAccuracy')),
    ...threatModels.map((k) => {
      const tm = m.threatModels?.[k];
      return tm ? rate(tm.robustAccuracy, tm.robustAccuracyInterval, spreadOf(m, 'threatModels', k, 'robustAccuracy')) : 'n/a';
    }),
  ]);
  return table(header, rows, 3);
}

function breakersText(tm: ThreatModelResult): string {
  // In run order, examples misclassified without an attack last.
  const order = (name: string) => (name === 'clean' ? Number.MAX_SAFE_INTEGER : tm.ran.indexOf(name) === -1 ? tm.ran.length : tm.ran.indexOf(name));
  const entries = Object.entries(tm.breakers).filter(([, n]) => n > 0).sort(([a], [b]) => order(a) - order(b));
  return entries.length === 0 ? '—' : entries.map(([name, n]) => `${name} ${Number.isInteger(n) ? n : n.toFixed(1)}`).join(', ');
}

/** Per threat model: the attacks that ran, each one's robust accuracy, the worst case and who broke what. */
function threatModelSection(results: ResultsFile, key: string): string[] {
  const models = Object.entries(results.models).filter(([, m]) => m.threatModels?.[key]);
  const attackKeys = attackColumns(results).filter((a) => models.some(([, m]) => m.threatModels[key]!.attacks.includes(a)));
  const ran = [...new Set(models.flatMap(([, m]) => m.threatModels[key]!.ran))];
  const header = ['Model', 'Clean acc. (%)', ...attackKeys.map((a) => `${a} (%)`), 'Worst case (%)', 'Worst class (%)', 'Broken first by (examples)'];
  const rows = models.map(([name, m]) => {
    const tm = m.threatModels[key]!;
    return [
      name,
      rate(tm.cleanAccuracy, tm.cleanAccuracyInterval),
      ...attackKeys.map((a) => (tm.attacks.includes(a) ? rate(m.attacks[a]?.robustAccuracy, m.attacks[a]?.robustAccuracyInterval, spreadOf(m, 'attacks', a, 'robustAccuracy')) : '—')),
      rate(tm.robustAccuracy, tm.robustAccuracyInterval, spreadOf(m, 'threatModels', key, 'robustAccuracy')),
      tm.worstClass ? `class ${tm.worstClass.label}: ${percent(tm.worstClass.robustAccuracy)}` : 'n/a',
      breakersText(tm),
    ];
  });
  const classes = Math.max(0, ...models.map(([, m]) => m.threatModels[key]!.perClass.length));
  const perClass = table(
    ['Model', ...Array.from({ length: classes }, (_, c) => `class ${c}`)],
    models.map(([name, m]) => [name, ...Array.from({ length: classes }, (_, c) => percent(m.threatModels[key]!.perClass[c]?.robustAccuracy))]),
  );
  return [
    `## Threat model ${threatModelLabel(results, key)}`,
    '',
    `Attacks that ran: ${ran.join(', ') || 'none'}. Robust accuracy of each attack, and the per-example worst case over all of them.`,
    '',
    ...table(header, rows),
    '',
    'Robust accuracy per true class (Fair-ARD reports the worst class):',
    '',
    ...perClass,
    '',
  ];
}

/** "none (ε = ∞)" for C&W, "L0 ≤ 113.7 values (γ = 14.5 %)" for JSMA. */
function limitOf(a: AttackSummary): string {
  if (a.maxL0 !== undefined) {
    const gamma = a.params['gamma'];
    return `L0 ≤ ${plain(a.maxL0, 1)} values${typeof gamma === 'number' ? ` (γ = ${(gamma * 100).toFixed(1)} %)` : ''}`;
  }
  return 'none (ε = ∞)';
}

/** Minimum-distortion attacks: success rate, distortion and their success within each threat model's budget. */
function minimumDistortionSection(results: ResultsFile): string[] {
  const rows: string[][] = [];
  const budgetRows: string[][] = [];
  for (const [name, m] of Object.entries(results.models)) {
    for (const [key, a] of Object.entries(m.attacks)) {
      if (a.kind !== 'minimum-distortion' && a.epsilon !== null) continue;
      const s = (field: string) => spreadOf(m, 'attacks', key, field);
      rows.push([
        name, key, a.mode, limitOf(a),
        rate(a.successRate, a.successRateInterval, s('successRate')),
        `${plain(a.meanL0, 1, s('meanL0'))} / ${plain(a.medianL0, 1)}`,
        `${plain(a.meanL2, 3, s('meanL2'))} / ${plain(a.medianL2, 3)}`,
        `${plain(a.meanLinf, 3, s('meanLinf'))} / ${plain(a.medianLinf, 3)}`,
        a.rhoAdv !== undefined ? percent(a.rhoAdv, s('rhoAdv')) : 'n/a',
      ]);
      for (const b of a.budgets ?? []) {
        budgetRows.push([name, key, `${NORM_LABEL[b.norm]} ε = ${b.epsilon}`, rate(b.successRate, b.successRateInterval), rate(b.robustAccuracy, b.robustAccuracyInterval)]);
      }
    }
  }
  if (rows.length === 0) return [];
  return [
    '## Minimum-distortion attacks',
    '',
    'These look for the smallest perturbation instead of searching a budget, so they report success and distortion and never enter a threat model\'s worst case. ' +
      'L0 counts changed input values; distortion is mean / median over successful rows.',
    '',
    ...table(['Model', 'Attack', 'Mode', 'Limit', 'Success (%)', 'L0 mean / median', 'L2 mean / median', 'L∞ mean / median', 'ρ_adv (%)'], rows, 4),
    '',
    ...(budgetRows.length > 0
      ? ['Success within each threat model\'s budget (a row counts when its perturbation fits the ball):', '', ...table(['Model', 'Attack', 'Budget', 'Success within ε (%)', 'Robust acc. within ε (%)'], budgetRows, 3), '']
      : []),
  ];
}

/** Metric plugins (`evaluation.metrics`): one row per model and metric, named values spelled out. */
function pluginMetricsSection(results: ResultsFile): string[] {
  const rows: string[][] = [];
  for (const [name, m] of Object.entries(results.models)) {
    for (const [key, entry] of Object.entries(m.metrics ?? {})) {
      const value = entry.value;
      const shown = value === null || typeof value === 'number'
        ? plain(value, 4)
        : Object.entries(value).map(([k, v]) => `${k}: ${plain(v, 4)}`).join('; ');
      rows.push([name, key, entry.name, shown]);
    }
  }
  if (rows.length === 0) return [];
  return ['## Metrics', '', 'Metric plugins configured in `evaluation.metrics`, over the clean pass and every attack run (margin-loss twins included).', '', ...table(['Model', 'Key', 'Metric', 'Value'], rows, 3), ''];
}

const STATUS_LABEL = { flagged: '**Flagged**', passed: 'Passed', 'not-run': 'Not run' } as const;

function diagnosticLine(d: Diagnostic): string {
  const status = d.status ?? (d.severity === 'warning' ? 'flagged' : 'not-run');
  return `- ${STATUS_LABEL[status]} (${d.id}): ${cell(d.message)}`;
}

/** report.md: the compact summary, each threat model, minimum-distortion attacks, then the checks. */
export function renderMarkdown(results: ResultsFile): string {
  const seeds = results.seeds ? `seeds ${results.seeds.join(', ')} (mean ± std)` : `seed ${results.seed ?? 'n/a'}`;
  const lines = [
    '# Robustness evaluation',
    '',
    `Dataset **${cell(results.dataset.name)}**, first ${results.evaluatedExamples} test examples in order; ${seeds}; ` +
      `backend ${cell(results.backend.name)} (${results.backend.workers} worker${results.backend.workers === 1 ? '' : 's'}); ` +
      `Tempered ${cell(results.tempered)}; ${cell(results.createdAt)}.`,
    '',
    ...summaryTable(results),
    '',
    `Robust accuracy: share of the ${results.evaluatedExamples} examples classified correctly on the clean input and after every attack of ` +
      'the threat model (per-example worst case, AutoAttack counting). [a, b]: 95 % Wilson interval for N examples. ' +
      '⚠: a masking check flagged the model; (degenerate): clean accuracy at or near chance, no masking verdict.',
    '',
  ];
  const taught = Object.entries(results.models).filter(([, model]) => model.teacher);
  if (taught.length > 0) {
    lines.push('## Teachers', '', 'How the teacher of each distilled model was made:', '');
    for (const [name, model] of taught) lines.push(`- **${cell(name)}** ← ${cell(teacherDescription(model.teacher!))}`);
    lines.push('');
  }
  for (const key of threatModelColumns(results)) lines.push(...threatModelSection(results, key));
  lines.push(...minimumDistortionSection(results));
  lines.push(...pluginMetricsSection(results));
  lines.push('## Diagnostics', '', 'Checks of Carlini et al. (2019), Athalye et al. (2018) and Pintor et al. (2022): flagged with evidence, passed, or not run (and why).', '');
  for (const [name, model] of Object.entries(results.models)) {
    lines.push(`### ${cell(name)}`, '');
    const order = { flagged: 0, passed: 1, 'not-run': 2 } as const;
    const sorted = [...model.diagnostics].sort((a, b) => order[a.status ?? 'not-run'] - order[b.status ?? 'not-run']);
    if (sorted.length === 0) lines.push('- No check ran.');
    for (const d of sorted) lines.push(diagnosticLine(d));
    lines.push('');
  }
  return lines.join('\n');
}
