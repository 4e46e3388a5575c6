import type { ModelResults, ResultsFile, TeacherInfo } from './schema.js';

/** A number as a percentage (or "n/a"), with ± std when given. */
export function percent(value: number | null | undefined, spread?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = `${(value * 100).toFixed(1)}`;
  return spread !== undefined && Number.isFinite(spread) ? `${text} ± ${(spread * 100).toFixed(1)}` : text;
}

function plain(value: number | null | undefined, digits: number, spread?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(digits);
  return spread !== undefined && Number.isFinite(spread) ? `${text} ± ${spread.toFixed(digits)}` : text;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Attack keys across models, in first-seen order. */
export function attackColumns(results: ResultsFile): string[] {
  const keys: string[] = [];
  for (const model of Object.values(results.models)) for (const key of Object.keys(model.attacks)) if (!keys.includes(key)) keys.push(key);
  return keys;
}

function attackLabel(results: ResultsFile, key: string): string {
  for (const model of Object.values(results.models)) {
    const a = model.attacks[key];
    if (a) return `${key}${a.epsilon !== null ? ` (${a.norm} ε=${a.epsilon})` : ''}${a.mode === 'targeted' ? ' [targeted]' : ''}`;
  }
  return key;
}

function row(name: string, model: ModelResults, keys: readonly string[]): string {
  const std = model.std;
  const cells = [
    name,
    model.method,
    percent(model.cleanAccuracy, std?.cleanAccuracy),
    ...keys.map((k) => percent(model.attacks[k]?.robustAccuracy, std?.attacks?.[k]?.['robustAccuracy'])),
    percent(model.worstCaseRobustAccuracy, std?.worstCaseRobustAccuracy),
    ...keys.map((k) => percent(model.attacks[k]?.successRate, std?.attacks?.[k]?.['successRate'])),
    ...keys.map((k) => plain(model.attacks[k]?.meanL2, 3, std?.attacks?.[k]?.['meanL2'])),
    keys.map((k) => model.attacks[k]?.rhoAdv).some((v) => v !== undefined)
      ? keys
          .filter((k) => model.attacks[k]?.rhoAdv !== undefined)
          .map((k) => percent(model.attacks[k]!.rhoAdv, std?.attacks?.[k]?.['rhoAdv']))
          .join(', ')
      : 'n/a',
  ];
  return `| ${cells.map(cell).join(' | ')} |`;
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

/** report.md: the comparison table (mean ± std over seeds when merged) and the diagnostics under it. */
export function renderMarkdown(results: ResultsFile): string {
  const keys = attackColumns(results);
  const seeds = results.seeds ? `seeds ${results.seeds.join(', ')} (mean ± std)` : `seed ${results.seed ?? 'n/a'}`;
  const header = [
    'Model',
    'Method',
    'Clean acc. (%)',
    ...keys.map((k) => `Robust acc. ${attackLabel(results, k)} (%)`),
    'Worst-case robust acc. (%)',
    ...keys.map((k) => `Success ${k} (%)`),
    ...keys.map((k) => `Mean L2 ${k}`),
    'ρ_adv (%)',
  ];
  const lines = [
    '# Robustness evaluation',
    '',
    `Dataset **${cell(results.dataset.name)}**, first ${results.evaluatedExamples} test examples in order; ${seeds}; ` +
      `backend ${cell(results.backend.name)} (${results.backend.workers} worker${results.backend.workers === 1 ? '' : 's'}); ` +
      `Tempered ${cell(results.tempered)}; ${cell(results.createdAt)}.`,
    '',
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`,
    ...Object.entries(results.models).map(([name, model]) => row(name, model, keys)),
    '',
    'Robust accuracy: share of the evaluated examples classified correctly on the clean input and on every adversarial input. ' +
      'Success rate: over correctly classified examples (targeted: over (example, target) pairs, every other class). ' +
      'Mean L2 and ρ_adv (mean fraction of input values changed) over successful adversarial examples. Worst-case: no attack fooled the example.',
    '',
  ];
  const taught = Object.entries(results.models).filter(([, model]) => model.teacher);
  if (taught.length > 0) {
    lines.push('## Teachers', '', 'How the teacher of each distilled model was made:', '');
    for (const [name, model] of taught) lines.push(`- **${cell(name)}** ← ${cell(teacherDescription(model.teacher!))}`);
    lines.push('');
  }
  lines.push('## Gradient-masking diagnostics', '');
  for (const [name, model] of Object.entries(results.models)) {
    const warnings = model.diagnostics.filter((d) => d.severity === 'warning');
    const infos = model.diagnostics.filter((d) => d.severity === 'info');
    lines.push(`### ${cell(name)}`, '');
    if (warnings.length === 0) lines.push('- No gradient-masking warning.');
    for (const d of warnings) lines.push(`- **Warning (${d.id})**: ${cell(d.message)}`);
    for (const d of infos) lines.push(`- Info (${d.id}): ${cell(d.message)}`);
    lines.push('');
  }
  return lines.join('\n');
}
