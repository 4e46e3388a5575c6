import { CLEAN, comparisonsOf } from './comparisons.js';
import { hasMaskingWarning, isDegenerate } from './diagnostics.js';
import type {
  AdversarialExample,
  AttackSummary,
  Diagnostic,
  GradientHistogram,
  Interval,
  ModelResults,
  PairedComparison,
  ResultsFile,
  SeedComparison,
  TeacherInfo,
  ThreatModelResult,
  TrainingEpoch,
} from './schema.js';
import { writtenBy } from './schema.js';

/**
 * The report as a document (after unified/mdast): built once from results.json by
 * {@link buildReport}, rendered to Markdown (`renderMarkdown`) and to HTML (`renderHtml`).
 * Text is plain; each renderer escapes it for its format. Every state a reader sees (flagged,
 * passed, not run) is a field of a verdict, never found again in rendered text.
 */

/** Inline text: plain, strong, or code. */
export type Span = string | { readonly strong: string } | { readonly code: string };

/** A check's outcome as the report shows it. */
export interface Verdict {
  readonly status: 'flagged' | 'passed' | 'not-run';
  readonly id: string;
  readonly message: string;
}

/** One model's point of the clean vs robust trade-off figure. */
export interface TradeoffPoint {
  readonly model: string;
  readonly clean: number;
  readonly cleanInterval: Interval | null;
  readonly robust: number;
  readonly robustInterval: Interval | null;
  readonly teacher: boolean;
}

export interface Series {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** Figures: drawn in report.html; report.md carries the same numbers in its tables. */
export type Figure =
  | { readonly type: 'tradeoff'; readonly title: string; readonly measure: string; readonly points: readonly TradeoffPoint[] }
  | { readonly type: 'lines'; readonly title: string; readonly heading?: string; readonly xLabel: string; readonly yLabel: string; readonly series: readonly Series[]; readonly yRange?: readonly [number, number] }
  | { readonly type: 'histogram'; readonly title: string; readonly heading?: string; readonly histogram: GradientHistogram }
  | { readonly type: 'examples'; readonly heading: string; readonly note: string; readonly examples: readonly AdversarialExample[] };

export type Block =
  | { readonly kind: 'heading'; readonly level: 2 | 3; readonly text: string }
  | { readonly kind: 'paragraph'; readonly spans: readonly Span[] }
  | { readonly kind: 'list'; readonly items: ReadonlyArray<readonly Span[]> }
  | { readonly kind: 'table'; readonly header: readonly string[]; readonly rows: ReadonlyArray<readonly string[]>; readonly leftColumns: number }
  | { readonly kind: 'verdicts'; readonly items: readonly Verdict[] }
  /** A row of figures; `empty` is said when there is none. */
  | { readonly kind: 'figures'; readonly figures: readonly Figure[]; readonly empty: string };

export interface ReportDocument {
  readonly title: string;
  readonly blocks: readonly Block[];
  /** The HTML file that draws this document's figures, named in the Markdown (default report.html). */
  readonly htmlFile?: string;
}

// ---------------------------------------------------------------------------------------------
// Formatting of numbers (shared by both renderers through the document).
// ---------------------------------------------------------------------------------------------

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

/** A difference in percentage points with its sign: "+6.0". */
export function points(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = (value * 100).toFixed(1);
  return value > 0 && text !== '0.0' ? `+${text}` : text === '-0.0' ? '0.0' : text;
}

/** A difference with its paired interval: "+6.0 [−2.6, +14.3]". */
export function difference(value: number, interval: Interval | null): string {
  return interval ? `${points(value)} [${points(interval[0])}, ${points(interval[1])}]` : points(value);
}

/** A p-value: three decimals, "< 0.001" below. */
export function pValue(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return 'n/a';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

function plain(value: number | null | undefined, digits: number, spread?: unknown): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(digits);
  return typeof spread === 'number' && Number.isFinite(spread) ? `${text} ± ${spread.toFixed(digits)}` : text;
}

// ---------------------------------------------------------------------------------------------
// Facts read from results.json.
// ---------------------------------------------------------------------------------------------

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

/** "L∞ ε = 0.3" for a threat-model key, "clean" for the clean measure. */
export function threatModelLabel(results: ResultsFile, key: string): string {
  if (key === CLEAN) return 'clean';
  for (const model of Object.values(results.models)) {
    const tm = model.threatModels?.[key];
    if (tm) return `${NORM_LABEL[tm.norm]} ε = ${tm.epsilon}`;
  }
  return key;
}

/** The students of the run each model taught: `taught` when recorded, else from the students' `teacher` fields. */
export function studentsOf(results: ResultsFile, name: string): string[] {
  const recorded = results.models[name]?.taught;
  if (recorded) return [...recorded];
  return Object.entries(results.models).filter(([, m]) => m.teacher?.name === name).map(([student]) => student);
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

/** The standard deviation over seeds recorded at `std.<path>` (merged results), else undefined. */
export function spreadOf(model: ModelResults, ...path: string[]): unknown {
  let node: unknown = model.std;
  for (const key of path) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

/** A diagnostic's status; files written before `status` existed: a warning is flagged, else not run. */
export function statusOf(d: Diagnostic): Verdict['status'] {
  return d.status ?? (d.severity === 'warning' ? 'flagged' : 'not-run');
}

// ---------------------------------------------------------------------------------------------
// Sections.
// ---------------------------------------------------------------------------------------------

function modelLabel(results: ResultsFile, name: string, model: ModelResults): string {
  const taught = studentsOf(results, name);
  const role = taught.length > 0 ? ` (teacher of ${taught.join(', ')})` : '';
  return `${name}${role}${isDegenerate(model.diagnostics) ? ' (degenerate)' : hasMaskingWarning(model.diagnostics) ? ' ⚠' : ''}`;
}

/** The first table's teacher cell: the teacher's name and how it was trained, or — for a model without one. */
function teacherOf(model: ModelResults): string {
  const teacher = model.teacher;
  if (!teacher) return '—';
  if (teacher.source === 'loaded') return `${teacher.name} (loaded)`;
  return teacher.method ? `${teacher.name} (${teacher.method})` : teacher.name;
}

function summaryTable(results: ResultsFile): Block {
  const threatModels = threatModelColumns(results);
  const header = ['Model', 'Method', 'Teacher', 'Clean acc. (%)', ...threatModels.map((k) => `Robust acc. ${threatModelLabel(results, k)} (%)`)];
  const rows = Object.entries(results.models).map(([name, m]) => [
    modelLabel(results, name, m),
    m.method,
    teacherOf(m),
    rate(m.cleanAccuracy, m.cleanAccuracyInterval, spreadOf(m, 'cleanAccuracy')),
    ...threatModels.map((k) => {
      const tm = m.threatModels?.[k];
      return tm ? rate(tm.robustAccuracy, tm.robustAccuracyInterval, spreadOf(m, 'threatModels', k, 'robustAccuracy')) : 'n/a';
    }),
  ]);
  return { kind: 'table', header, rows, leftColumns: 3 };
}

/** Id of the verdict on each teacher. */
export const TEACHER_CHECK = 'teacher-worth-distilling';

/**
 * Whether a teacher is worth reading its students against: 'flagged' when it is at or near
 * chance (the degenerate check), or when a student it taught is significantly more robust than
 * it under a threat model (the paired interval of student − teacher lies above 0): the premise
 * of robust distillation, a robust teacher, does not hold (for merged seeds: more robust in
 * every seed, with McNemar p < 0.05 within each). 'not-run' when the teacher was not evaluated
 * in this run.
 */
export function teacherVerdicts(results: ResultsFile, pairs: readonly PairedComparison[], acrossSeeds: readonly SeedComparison[] = []): Verdict[] {
  const teachers = new Map<string, string[]>();
  for (const [name, m] of Object.entries(results.models)) {
    if (m.teacher) teachers.set(m.teacher.name, [...(teachers.get(m.teacher.name) ?? []), name]);
  }
  for (const name of Object.keys(results.models)) if (studentsOf(results, name).length > 0 && !teachers.has(name)) teachers.set(name, studentsOf(results, name));
  const out: Verdict[] = [];
  for (const [name, students] of teachers) {
    const model = results.models[name];
    const id = TEACHER_CHECK;
    if (!model) {
      out.push({ status: 'not-run', id, message: `${name} (teacher of ${students.join(', ')}) was not evaluated in this run: its students cannot be read against it.` });
      continue;
    }
    if (isDegenerate(model.diagnostics)) {
      out.push({ status: 'flagged', id, message: `${name} is degenerate (clean accuracy ${percent(model.cleanAccuracy)} %, at or near chance): ${students.join(', ')} distilled from a teacher that has nothing to teach.` });
      continue;
    }
    const beaten = pairs.filter((p) => p.measure !== CLEAN && p.second === name && students.includes(p.first) && p.interval !== null && p.interval[0] > 0);
    if (beaten.length > 0) {
      const worst = beaten.reduce((a, b) => (b.difference > a.difference ? b : a));
      out.push({
        status: 'flagged',
        id,
        message:
          `${name} is less robust than its own student${beaten.length > 1 ? 's' : ''}: ` +
          beaten.map((p) => `${p.first} ${percent(p.firstAccuracy)} % vs ${percent(p.secondAccuracy)} % under ${threatModelLabel(results, p.measure)}`).join('; ') +
          `. The students' robustness did not come from this teacher (largest gap ${difference(worst.difference, worst.interval)} points, paired 95 % interval above 0).`,
      });
      continue;
    }
    // Merged seeds keep no pooled pairs: a student more robust in every seed, significantly so within each, flags the teacher.
    const beatenInEverySeed = acrossSeeds.filter(
      (c) => c.measure !== CLEAN && c.second === name && students.includes(c.first) && c.differences.every((d) => d > 0) && c.perSeedPValues.every((p) => p < 0.05),
    );
    if (beatenInEverySeed.length > 0) {
      out.push({
        status: 'flagged',
        id,
        message:
          `${name} is less robust than its own student${beatenInEverySeed.length > 1 ? 's' : ''} in every seed: ` +
          beatenInEverySeed.map((c) => `${c.first} by ${points(c.mean)} points on average under ${threatModelLabel(results, c.measure)} (McNemar p < 0.05 in each of ${c.seeds.length} seeds)`).join('; ') +
          '. The students\' robustness did not come from this teacher.',
      });
      continue;
    }
    out.push({ status: 'passed', id, message: `${name}: clean ${percent(model.cleanAccuracy)} %; no student it taught is significantly more robust than it.` });
  }
  return out;
}

/** Student − teacher gaps, clean and per threat model: with their paired intervals, or, for merged seeds, mean ± sd over seeds. */
function teacherGaps(results: ResultsFile, pairs: readonly PairedComparison[], acrossSeeds: readonly SeedComparison[]): Block[] {
  const single = pairs.filter((p) => p.relation === 'student-teacher');
  const seeds = acrossSeeds.filter((c) => c.relation === 'student-teacher');
  const gaps: ReadonlyArray<{ first: string; second: string; measure: string; text: string }> =
    single.length > 0
      ? single.map((g) => ({ ...g, text: difference(g.difference, g.interval) }))
      : seeds.map((c) => ({ ...c, text: `${points(c.mean)}${c.std === null ? '' : ` ± ${(c.std * 100).toFixed(1)}`}` }));
  if (gaps.length === 0) return [];
  const measures = [CLEAN, ...threatModelColumns(results)].filter((m) => gaps.some((g) => g.measure === m));
  const students = [...new Set(gaps.map((g) => `${g.first}\u0000${g.second}`))];
  const rows = students.map((key) => {
    const [student, teacher] = key.split('\u0000') as [string, string];
    return [student, teacher, ...measures.map((m) => gaps.find((x) => x.first === student && x.second === teacher && x.measure === m)?.text ?? 'n/a')];
  });
  const how = single.length > 0 ? 'paired 95 % interval' : `mean ± sd over seeds, each seed paired example by example`;
  return [
    { kind: 'paragraph', spans: [`Each distilled student against its teacher (student − teacher, percentage points, ${how}): the robustness transferred, read at a glance.`] },
    { kind: 'table', header: ['Student', 'Teacher', ...measures.map((m) => `${threatModelLabel(results, m)} (pts)`)], rows, leftColumns: 2 },
  ];
}

const RELATION_ORDER = { 'student-teacher': 0, 'student-baseline': 1, 'student-student': 2, other: 3 } as const;
const RELATION_LABEL = { 'student-teacher': 'student vs its teacher', 'student-baseline': 'student vs baseline', 'student-student': 'distillation methods', other: 'other' } as const;

/** The sentence a reader can act on, e.g. "to separate 26.0 % from 20.0 % … you need about 580 test examples (this run has 100)". */
function actionSentence(results: ResultsFile, c: PairedComparison): string {
  const where = `${c.first} vs ${c.second}, ${threatModelLabel(results, c.measure)}`;
  if (c.discordance === 0) return `${where}: the two models agree on every example; no difference to separate.`;
  const detectable = c.minimumDetectableDifference;
  const run = `this run detects ${detectable === null ? 'no difference' : `differences of ${points(detectable).replace('+', '')} points or more`} (α 0.05, power 0.8, ${c.evaluated} examples, ${percent(c.discordance)} % discordant)`;
  if (c.examplesNeeded === null) return `${where}: same accuracy; ${run}.`;
  const verdict = c.adjustedPValue <= 0.05 ? 'separated here' : c.examplesNeeded <= c.evaluated ? 'not separated here, though the run was large enough to detect a difference this size with power 0.8' : 'not separated here';
  return `${where}: ${verdict}; ${run}. To separate ${percent(c.firstAccuracy)} % from ${percent(c.secondAccuracy)} % you need about ${c.examplesNeeded} test examples at the same discordance (this run has ${c.evaluated}).`;
}

function comparisonSection(results: ResultsFile, pairs: readonly PairedComparison[], acrossSeeds: readonly SeedComparison[]): Block[] {
  const lead = pairs.filter((p) => p.relation !== 'other').sort((a, b) => RELATION_ORDER[a.relation] - RELATION_ORDER[b.relation]);
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Comparisons' }];
  if (pairs.length === 0 && acrossSeeds.length === 0) {
    blocks.push({ kind: 'paragraph', spans: ['No paired comparison: the run has fewer than two models with per-example outcomes on the same examples.'] });
    return blocks;
  }
  if (pairs.length > 0) {
    blocks.push({
      kind: 'paragraph',
      spans: [
        'Paired comparisons on the same examples, first − second in percentage points: Newcombe (1998) paired 95 % interval, exact McNemar p, ' +
          `Holm-adjusted over all ${pairs.length} comparisons of the run (the full matrix is in results.json), and the smallest difference the run could detect ` +
          '(α 0.05, power 0.8, Connor 1987) at the observed discordance ("none": too few discordant examples to detect any difference), and the examples the observed difference would need.',
      ],
    });
    const shown = lead.length > 0 ? lead : pairs;
    blocks.push({
      kind: 'table',
      header: ['Comparison', 'First', 'Second', 'Measure', 'First (%)', 'Second (%)', 'Difference (pts) [95 %]', 'Only first / only second', 'McNemar p', 'Holm p', 'Detectable (pts)', 'Examples needed'],
      rows: shown.map((c) => [
        RELATION_LABEL[c.relation],
        c.first,
        c.second,
        threatModelLabel(results, c.measure),
        percent(c.firstAccuracy),
        percent(c.secondAccuracy),
        difference(c.difference, c.interval),
        `${c.table.firstOnly} / ${c.table.secondOnly}`,
        pValue(c.pValue),
        pValue(c.adjustedPValue),
        c.minimumDetectableDifference === null ? 'none' : points(c.minimumDetectableDifference).replace('+', ''),
        c.examplesNeeded === null ? '—' : String(c.examplesNeeded),
      ]),
      leftColumns: 4,
    });
    const methods = shown.filter((c) => c.relation === 'student-student' && c.measure !== CLEAN);
    const sentences = (methods.length > 0 ? methods : shown.filter((c) => c.measure !== CLEAN)).map((c) => [actionSentence(results, c)] as const);
    if (sentences.length > 0) blocks.push({ kind: 'list', items: sentences });
  }
  if (acrossSeeds.length > 0) {
    const same = acrossSeeds[0]!.sameExamples;
    blocks.push(
      { kind: 'heading', level: 3, text: 'Across seeds' },
      {
        kind: 'paragraph',
        spans: [
          same
            ? 'Every seed evaluated the same test examples, so each seed\'s difference comes from its own per-example pairing; the test over seeds is a paired t test of those differences (n − 1 degrees of freedom), Holm-adjusted over the pairs.'
            : 'The seeds evaluated different test examples: each seed\'s difference is paired within that seed only; the test over seeds is a paired t test of those differences, Holm-adjusted over the pairs.',
        ],
      },
      {
        kind: 'table',
        header: ['Comparison', 'First', 'Second', 'Measure', 'Mean difference (pts)', 'SD over seeds (pts)', 'Seeds', 't', 'p (t over seeds)', 'Holm p', 'McNemar p per seed'],
        rows: [...acrossSeeds].sort((a, b) => RELATION_ORDER[a.relation] - RELATION_ORDER[b.relation]).map((c) => [
          RELATION_LABEL[c.relation],
          c.first,
          c.second,
          threatModelLabel(results, c.measure),
          points(c.mean),
          c.std === null ? 'n/a' : (c.std * 100).toFixed(1),
          String(c.seeds.length),
          c.t === null ? 'n/a' : c.t.toFixed(2),
          c.pValue === null ? (c.seeds.length < 2 ? 'n/a (one seed)' : 'n/a (no spread)') : pValue(c.pValue),
          pValue(c.adjustedPValue),
          c.perSeedPValues.map(pValue).join(', '),
        ]),
        leftColumns: 4,
      },
    );
    if (acrossSeeds.some((c) => c.seeds.length < 3)) blocks.push({ kind: 'paragraph', spans: ['With fewer than three seeds a t test over seeds has at most one degree of freedom: read the per-seed McNemar p-values instead.'] });
  }
  return blocks;
}

function breakersText(tm: ThreatModelResult): string {
  // In run order, examples misclassified without an attack last.
  const order = (name: string) => (name === 'clean' ? Number.MAX_SAFE_INTEGER : tm.ran.indexOf(name) === -1 ? tm.ran.length : tm.ran.indexOf(name));
  const entries = Object.entries(tm.breakers).filter(([, n]) => n > 0).sort(([a], [b]) => order(a) - order(b));
  return entries.length === 0 ? '—' : entries.map(([name, n]) => `${name} ${Number.isInteger(n) ? n : n.toFixed(1)}`).join(', ');
}

/** Per threat model: the attacks that ran, each one's robust accuracy, the worst case and who broke what. */
function threatModelSection(results: ResultsFile, key: string): Block[] {
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
  return [
    { kind: 'heading', level: 2, text: `Threat model ${threatModelLabel(results, key)}` },
    { kind: 'paragraph', spans: [`Attacks that ran: ${ran.join(', ') || 'none'}. Robust accuracy of each attack, and the per-example worst case over all of them.`] },
    { kind: 'table', header, rows, leftColumns: 1 },
    { kind: 'paragraph', spans: ['Robust accuracy per true class (Fair-ARD reports the worst class):'] },
    {
      kind: 'table',
      header: ['Model', ...Array.from({ length: classes }, (_, c) => `class ${c}`)],
      rows: models.map(([name, m]) => [name, ...Array.from({ length: classes }, (_, c) => percent(m.threatModels[key]!.perClass[c]?.robustAccuracy))]),
      leftColumns: 1,
    },
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
function minimumDistortionSection(results: ResultsFile): Block[] {
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
    { kind: 'heading', level: 2, text: 'Minimum-distortion attacks' },
    {
      kind: 'paragraph',
      spans: [
        'These look for the smallest perturbation instead of searching a budget, so they report success and distortion and never enter a threat model\'s worst case. ' +
          'L0 counts changed input values; distortion is mean / median over successful rows.',
      ],
    },
    { kind: 'table', header: ['Model', 'Attack', 'Mode', 'Limit', 'Success (%)', 'L0 mean / median', 'L2 mean / median', 'L∞ mean / median', 'ρ_adv (%)'], rows, leftColumns: 4 },
    ...(budgetRows.length > 0
      ? ([
          { kind: 'paragraph', spans: ['Success within each threat model\'s budget (a row counts when its perturbation fits the ball):'] },
          { kind: 'table', header: ['Model', 'Attack', 'Budget', 'Success within ε (%)', 'Robust acc. within ε (%)'], rows: budgetRows, leftColumns: 3 },
        ] as Block[])
      : []),
  ];
}

/** Metric plugins (`evaluation.metrics`): one row per model and metric, named values spelled out. */
function pluginMetricsSection(results: ResultsFile): Block[] {
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
  return [
    { kind: 'heading', level: 2, text: 'Metrics' },
    { kind: 'paragraph', spans: ['Metric plugins configured in `evaluation.metrics`, over the clean pass and every attack run (margin-loss twins included).'] },
    { kind: 'table', header: ['Model', 'Key', 'Metric', 'Value'], rows, leftColumns: 3 },
  ];
}

const STATUS_ORDER = { flagged: 0, passed: 1, 'not-run': 2 } as const;

function diagnosticsSection(results: ResultsFile): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Diagnostics' },
    { kind: 'paragraph', spans: ['Checks of Carlini et al. (2019), Athalye et al. (2018) and Pintor et al. (2022): flagged with evidence, passed, or not run (and why).'] },
  ];
  for (const [name, model] of Object.entries(results.models)) {
    const items = model.diagnostics.map((d) => ({ status: statusOf(d), id: d.id, message: d.message })).sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status]);
    blocks.push({ kind: 'heading', level: 3, text: name });
    blocks.push(items.length === 0 ? { kind: 'list', items: [['No check ran.']] } : { kind: 'verdicts', items });
  }
  return blocks;
}

/** Clean vs worst-case robust accuracy per model, one figure per threat model, teachers marked. */
function tradeoffFigures(results: ResultsFile): Figure[] {
  return threatModelColumns(results).map((key) => ({
    type: 'tradeoff' as const,
    title: `Clean vs robust accuracy, ${threatModelLabel(results, key)}`,
    measure: key,
    points: Object.entries(results.models)
      .filter(([, m]) => m.threatModels?.[key]?.robustAccuracy !== null && m.threatModels?.[key] !== undefined)
      .map(([name, m]) => {
        const tm = m.threatModels[key]!;
        return { model: name, clean: m.cleanAccuracy, cleanInterval: m.cleanAccuracyInterval ?? null, robust: tm.robustAccuracy!, robustInterval: tm.robustAccuracyInterval ?? null, teacher: studentsOf(results, name).length > 0 };
      }),
  }));
}

function figureSections(results: ResultsFile): Block[] {
  const models = Object.entries(results.models);
  const sweep: Figure = {
    type: 'lines',
    title: 'Robust accuracy vs ε',
    xLabel: 'ε',
    yLabel: 'robust accuracy',
    series: models
      .filter(([, m]) => m.epsilonSweep)
      .map(([name, m]) => ({
        label: `${name} (${m.epsilonSweep!.attack}, ${m.epsilonSweep!.norm})`,
        points: m.epsilonSweep!.points.filter((p) => p.robustAccuracy !== null).map((p) => [p.epsilon, p.robustAccuracy!] as const),
      })),
    yRange: [0, 1],
  };
  // Every step's learning rate, at epoch + step/steps (one point per epoch when only that was logged).
  const learningRateSeries = (phase: string, epochs: readonly TrainingEpoch[]) => {
    const points = epochs.flatMap((e) =>
      e.learningRates?.length ? e.learningRates.map((rate, i, all) => [e.epoch + i / all.length, rate] as const) : typeof e.learningRate === 'number' ? [[e.epoch, e.learningRate] as const] : [],
    );
    return points.length ? [{ label: `${phase} learning rate`, points }] : [];
  };
  const training: Figure[] = models.flatMap(([name, m]) =>
    Object.entries(m.training ?? {}).map(([phase, epochs]) => {
      // Which input an epoch's accuracy was measured on is recorded with it (accuracyOn); older logs say nothing.
      const on = epochs.find((e) => e.accuracyOn !== undefined)?.accuracyOn;
      const label = on ? `${phase} accuracy on ${on === 'adversarial' ? 'x′' : 'clean x'}` : `${phase} accuracy`;
      return {
        type: 'lines' as const,
        heading: `${name} — ${phase}`,
        title: `Training ${name} / ${phase}`,
        xLabel: 'epoch',
        yLabel: 'loss / accuracy',
        series: [
          { label: `${phase} loss`, points: epochs.map((e) => [e.epoch, e.loss] as const) },
          ...(epochs.some((e) => e.accuracy !== undefined) ? [{ label, points: epochs.filter((e) => e.accuracy !== undefined).map((e) => [e.epoch, e.accuracy!] as const) }] : []),
          ...learningRateSeries(phase, epochs),
        ],
      };
    }),
  );
  const histograms: Figure[] = models.map(([name, m]) => ({ type: 'histogram', heading: name, title: `Input-gradient magnitudes, ${name}`, histogram: m.gradientHistogram }));
  const grids: Figure[] = models.flatMap(([name, m]) =>
    attackColumns(results)
      .filter((key) => (m.examples[key] ?? []).length > 0)
      .map((key) => ({
        type: 'examples' as const,
        heading: `${name} — ${key}`,
        note: `clean · perturbation · adversarial; success ${rate(m.attacks[key]?.successRate, m.attacks[key]?.successRateInterval)} %`,
        examples: m.examples[key]!,
      })),
  );
  return [
    { kind: 'heading', level: 2, text: 'Clean vs robust accuracy' },
    { kind: 'paragraph', spans: ['Each model\'s clean accuracy against its worst-case robust accuracy, with 95 % Wilson intervals on both axes; teachers are drawn as squares.'] },
    { kind: 'figures', figures: tradeoffFigures(results), empty: 'No threat model was evaluated.' },
    { kind: 'heading', level: 2, text: 'Robust accuracy vs ε' },
    { kind: 'figures', figures: sweep.series.length > 0 ? [sweep] : [], empty: 'No ε sweep in results.json.' },
    { kind: 'heading', level: 2, text: 'Training curves' },
    { kind: 'figures', figures: training, empty: 'No training curves in results.json.' },
    { kind: 'heading', level: 2, text: 'Input-gradient magnitudes (T = 1)' },
    { kind: 'figures', figures: histograms, empty: 'No gradient histograms in results.json.' },
    { kind: 'heading', level: 2, text: 'Adversarial examples' },
    { kind: 'figures', figures: grids, empty: 'No adversarial examples recorded.' },
  ];
}

/**
 * The report of a results file, as a document both renderers draw: the run, each teacher's
 * verdict, the models, each student's gap to its teacher, the comparisons a reader asks for,
 * each threat model, minimum-distortion attacks, diagnostics, then the figures.
 *
 * @example
 * const doc = buildReport(results);
 * writeFileSync('report.md', documentToMarkdown(doc));
 * const flagged = doc.blocks.flatMap((b) => (b.kind === 'verdicts' ? b.items : [])).filter((v) => v.status === 'flagged');
 */
export function buildReport(results: ResultsFile): ReportDocument {
  const comparisons = comparisonsOf(results);
  const seeds = results.seeds ? `seeds ${results.seeds.join(', ')} (mean ± std)` : `seed ${results.seed ?? 'n/a'}`;
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      spans: [
        'Dataset ', { strong: results.dataset.name }, `, first ${results.evaluatedExamples} test examples in order; ${seeds}; ` +
          `backend ${results.backend.name} (${results.backend.workers} worker${results.backend.workers === 1 ? '' : 's'}); ` +
          `${writtenBy(results)}; ${results.createdAt}.`,
      ],
    },
  ];
  const teachers = teacherVerdicts(results, comparisons.pairs, comparisons.acrossSeeds ?? []);
  const taught = Object.entries(results.models).filter(([, model]) => model.teacher);
  if (teachers.length > 0 || taught.length > 0) {
    // Before any student's number: whether the teachers were worth distilling from, and how each was made.
    blocks.push({ kind: 'heading', level: 2, text: 'Teachers' }, { kind: 'verdicts', items: teachers });
    if (taught.length > 0) {
      blocks.push(
        { kind: 'paragraph', spans: ['How the teacher of each distilled model was made:'] },
        // A several-teacher student lists every role (its `teacher`, the primary role's, alone drives the verdicts and comparisons).
        { kind: 'list', items: taught.map(([name, model]) => [{ strong: name }, ` ← ${model.teachers ? Object.entries(model.teachers).map(([role, t]) => `${role}: ${teacherDescription(t)}`).join('; ') : teacherDescription(model.teacher!)}`]) },
      );
    }
  }
  blocks.push({ kind: 'heading', level: 2, text: 'Models' }, summaryTable(results), {
    kind: 'paragraph',
    spans: [
      `Robust accuracy: share of the ${results.evaluatedExamples} examples classified correctly on the clean input and after every attack of ` +
        'the threat model (per-example worst case, AutoAttack counting). [a, b]: 95 % Wilson interval for N examples. ' +
        '⚠: a masking check flagged the model; (degenerate): clean accuracy at or near chance, no masking verdict.',
    ],
  }, ...teacherGaps(results, comparisons.pairs, comparisons.acrossSeeds ?? []));
  blocks.push(...comparisonSection(results, comparisons.pairs, comparisons.acrossSeeds ?? []));
  for (const key of threatModelColumns(results)) blocks.push(...threatModelSection(results, key));
  blocks.push(...minimumDistortionSection(results), ...pluginMetricsSection(results), ...diagnosticsSection(results), ...figureSections(results));
  return { title: 'Robustness evaluation', blocks };
}
