import { CLEAN, comparisonsOf, outcomesOf } from './comparisons.js';
import { holmAdjust, tIntervalOfMean } from './paired.js';
import {
  difference,
  percent,
  points,
  pValue,
  spreadOf,
  statusOf,
  studentsOf,
  threatModelColumns,
  threatModelLabel,
  type Block,
  type Figure,
  type ReportDocument,
  type Span,
} from './report-model.js';
import type { Interval, ModelResults, ResultsFile, TeacherInfo } from './schema.js';
import { writtenBy } from './schema.js';

/**
 * The benchmark leaderboard: one document built from results.json alone (rendered to
 * leaderboard.md and leaderboard.html by the report's renderers). The students ranked by the
 * worst-case robust accuracy of the headline threat model (the first in the config's attack
 * order), the run's teacher shown apart above them; per threat model mean ± sd over seeds with a
 * 95 % interval; the gap to the teacher; the paired comparison with the reference student
 * (`evaluation.leaderboard.reference`), Holm-adjusted per threat model over the leaderboard's own
 * comparisons; training time; the diagnostics' verdict; a model card per model; the clean vs
 * robust figure.
 *
 * Intervals. Every seed evaluates the same first N test examples, so the seeds' counts are not
 * independent draws and a Wilson interval of the pooled count would be too narrow. With two or
 * more seeds the interval is Student's t over the seeds' accuracies (n − 1 degrees of freedom):
 * it describes the spread from training seeds on this test set, not the test set's own sampling
 * error. With one seed it is the Wilson interval of that seed's N examples. The comparison with
 * the reference follows the same rule: over seeds, the paired t test of the per-seed paired
 * differences (`compareAcrossSeeds`) with its t interval; with one seed, the exact McNemar test
 * with Newcombe's paired interval (`compareModels`).
 */

/** What the leaderboard reads from the recorded run config (results.config), loosely typed: older files may lack any of it. */
interface RecordedConfig {
  readonly name?: string;
  readonly batchSize?: number;
  readonly model?: { readonly name?: string; readonly params?: Record<string, unknown> };
  readonly teacher?: { readonly model?: { readonly name?: string; readonly params?: Record<string, unknown> }; readonly path?: string };
  readonly students?: ReadonlyArray<{ readonly name?: string; readonly model?: { readonly name?: string; readonly params?: Record<string, unknown> } }>;
  readonly evaluation?: { readonly attacks?: ReadonlyArray<{ readonly as?: string }>; readonly leaderboard?: { readonly reference?: string } };
}

function recordedConfig(results: ResultsFile): RecordedConfig {
  return (results.config ?? {}) as RecordedConfig;
}

/** The reference student the leaderboard compares every method with (`evaluation.leaderboard.reference`), if the config names one. */
export function leaderboardReference(results: ResultsFile): string | undefined {
  const reference = recordedConfig(results).evaluation?.leaderboard?.reference;
  return typeof reference === 'string' ? reference : undefined;
}

/**
 * Threat-model keys in the config's attack order (the first is the headline the ranking uses),
 * then any other key the models recorded; without a recorded config, the models' order.
 */
export function threatModelOrder(results: ResultsFile): string[] {
  const recorded = threatModelColumns(results);
  const keys: string[] = [];
  for (const attack of recordedConfig(results).evaluation?.attacks ?? []) {
    for (const model of Object.values(results.models)) {
      const key = attack.as === undefined ? undefined : model.attacks[attack.as]?.threatModel;
      if (key !== undefined && recorded.includes(key) && !keys.includes(key)) keys.push(key);
    }
  }
  return [...keys, ...recorded.filter((k) => !keys.includes(k))];
}

/**
 * The ranked models are the learners: the config's students (every model, when no config is
 * recorded) that taught no other model of the run. The teachers are shown apart: the run's, and a
 * student that taught another (e.g. MTARD's naturally trained clean teacher), whose architecture
 * and purpose differ from the learners' they would otherwise be ranked among.
 */
function studentNames(results: ResultsFile): string[] {
  const students = recordedConfig(results).students?.map((s) => s.name).filter((n): n is string => typeof n === 'string');
  return Object.keys(results.models).filter((n) => !teaches(results, n) && (!students || students.includes(n)));
}

/** Whether `name` taught a model of the run: as its one teacher (`taught`), or in any role of a several-teacher student. */
function teaches(results: ResultsFile, name: string): boolean {
  return studentsOf(results, name).length > 0 || Object.values(results.models).some((m) => Object.values(m.teachers ?? {}).some((t) => t.name === name));
}

/** Seeds a model's numbers average over (one seed: the run's). */
function seedsOf(results: ResultsFile, model: ModelResults): string[] {
  if (model.perSeed) return Object.keys(model.perSeed);
  if (model.seeds) return model.seeds.map(String);
  return results.seed !== undefined ? [String(results.seed)] : results.seeds ? results.seeds.map(String) : [];
}

/** One accuracy of one model over seeds: the mean, its sd (undefined with one seed), how many seeds measured it, each seed's value and the interval. */
export interface SeedSummary {
  readonly mean: number | null;
  readonly sd: number | undefined;
  readonly seeds: number;
  /** Each seed's value, from the per-example outcomes kept per seed (empty when they were not recorded). */
  readonly perSeed: ReadonlyArray<readonly [seed: string, value: number]>;
  /** 95 %: t over seeds (two or more; clipped to [0, 1]), else the Wilson interval of one seed's N examples. */
  readonly interval: Interval | null;
  readonly intervalKind: 't' | 'wilson' | 'none';
}

/** `measure`: 'clean' or a threat-model key. */
export function seedSummary(results: ResultsFile, model: ModelResults, measure: string): SeedSummary {
  const tm = measure === CLEAN ? undefined : model.threatModels[measure];
  const value = measure === CLEAN ? model.cleanAccuracy : (tm?.robustAccuracy ?? null);
  const path = measure === CLEAN ? ['cleanAccuracy'] : ['threatModels', measure, 'robustAccuracy'];
  const spread = spreadOf(model, ...path);
  const sd = typeof spread === 'number' && Number.isFinite(spread) ? spread : undefined;
  const lacking = model.missing?.[path.join('.')]?.length ?? 0;
  const seeds = Math.max(0, seedsOf(results, model).length - lacking);
  const perSeed: Array<readonly [string, number]> = [];
  if (model.perSeed) {
    for (const [seed, specific] of Object.entries(model.perSeed)) {
      const outcomes = outcomesOf(specific.threatModels).get(measure);
      if (outcomes && outcomes.length > 0) perSeed.push([seed, outcomes.filter(Boolean).length / outcomes.length]);
    }
  } else if (value !== null && seeds === 1) perSeed.push([seedsOf(results, model)[0]!, value]);
  if (value === null) return { mean: null, sd, seeds, perSeed, interval: null, intervalKind: 'none' };
  if (seeds >= 2 && sd !== undefined) {
    // An accuracy lies in [0, 1]: the t interval, symmetric about the mean, is clipped to it.
    const t = tIntervalOfMean(value, sd, seeds);
    return { mean: value, sd, seeds, perSeed, interval: t && [Math.max(0, t[0]), Math.min(1, t[1])], intervalKind: 't' };
  }
  const wilson = measure === CLEAN ? model.cleanAccuracyInterval : tm?.robustAccuracyInterval;
  return { mean: value, sd, seeds, perSeed, interval: seeds === 1 ? (wilson ?? null) : null, intervalKind: seeds === 1 && wilson ? 'wilson' : 'none' };
}

/** "81.0 ± 1.2 [78.1, 83.9]"; "81.0 ± n/a [72.2, 87.5]" with one seed (no sd). */
function summaryText(s: SeedSummary, withInterval = true): string {
  if (s.mean === null) return 'n/a';
  const sd = s.sd === undefined ? 'n/a' : (s.sd * 100).toFixed(1);
  const interval = withInterval && s.interval ? ` [${(s.interval[0] * 100).toFixed(1)}, ${(s.interval[1] * 100).toFixed(1)}]` : '';
  return `${percent(s.mean)} ± ${sd}${interval}`;
}

/** The diagnostics in one word: "ok" (every check that ran passed), the ids of the flagged checks, or "not checked". */
export function diagnosticsVerdict(model: ModelResults): string {
  const flagged = [...new Set(model.diagnostics.filter((d) => statusOf(d) === 'flagged').map((d) => d.id))];
  if (flagged.length > 0) return flagged.join(', ');
  return model.diagnostics.some((d) => statusOf(d) === 'passed') ? 'ok' : 'not checked';
}

function seconds(model: ModelResults): string {
  if (model.trainingSeconds === undefined) return 'n/a';
  const sd = spreadOf(model, 'trainingSeconds');
  return `${model.trainingSeconds.toFixed(1)}${typeof sd === 'number' && Number.isFinite(sd) ? ` ± ${sd.toFixed(1)}` : ''}`;
}

/** One method's paired comparison with the reference under one threat model, oriented method − reference. */
export interface ReferenceComparison {
  readonly model: string;
  readonly measure: string;
  readonly difference: number;
  readonly interval: Interval | null;
  /** Unadjusted: paired t over seeds, or exact McNemar for one seed; null when there is no test (one seed pair, no spread). */
  readonly pValue: number | null;
  /** Holm over this threat model's comparisons with the reference that have a p-value. */
  readonly adjustedPValue: number | null;
  readonly test: 't over seeds' | 'McNemar';
}

const flip = (interval: Interval | null): Interval | null => (interval ? [-interval[1], -interval[0]] : null);

/**
 * Every ranked model but the reference against the reference, per threat model, from the stored
 * comparisons: over seeds when the run merged seeds, else within the one seed. The Holm
 * adjustment runs over the leaderboard's own comparisons of each threat model.
 */
export function referenceComparisons(results: ResultsFile, reference: string, models: readonly string[], measures: readonly string[]): ReferenceComparison[] {
  const { pairs, acrossSeeds = [] } = comparisonsOf(results);
  const out: ReferenceComparison[] = [];
  for (const measure of measures) {
    const raw: Array<Omit<ReferenceComparison, 'adjustedPValue'>> = [];
    for (const model of models) {
      if (model === reference) continue;
      const across = acrossSeeds.find((c) => c.measure === measure && ((c.first === model && c.second === reference) || (c.first === reference && c.second === model)));
      if (across) {
        const sign = across.first === model ? 1 : -1;
        const interval = across.pValue === null || across.std === null ? null : tIntervalOfMean(across.mean, across.std, across.seeds.length);
        raw.push({ model, measure, difference: sign * across.mean, interval: sign === 1 ? interval : flip(interval), pValue: across.pValue, test: 't over seeds' });
        continue;
      }
      const pair = pairs.find((c) => c.measure === measure && ((c.first === model && c.second === reference) || (c.first === reference && c.second === model)));
      if (pair) {
        const sign = pair.first === model ? 1 : -1;
        raw.push({ model, measure, difference: sign * pair.difference, interval: sign === 1 ? pair.interval : flip(pair.interval), pValue: pair.pValue, test: 'McNemar' });
      }
    }
    const tested = raw.flatMap((c, i) => (c.pValue === null ? [] : [[c.pValue, i] as const]));
    const adjusted = holmAdjust(tested.map(([p]) => p));
    const byIndex = new Map(tested.map(([, i], k) => [i, adjusted[k]!]));
    raw.forEach((c, i) => out.push({ ...c, adjustedPValue: byIndex.get(i) ?? null }));
  }
  return out;
}

/** Students by the headline threat model's mean robust accuracy (best first; unmeasured last), ties by clean accuracy, then name. */
export function rankStudents(results: ResultsFile, headline: string | undefined): string[] {
  const robust = (name: string) => (headline === undefined ? null : (results.models[name]!.threatModels[headline]?.robustAccuracy ?? null));
  return studentNames(results).sort((a, b) => {
    const [ra, rb] = [robust(a), robust(b)];
    if (ra !== rb) return ra === null ? 1 : rb === null ? -1 : rb - ra;
    const [ca, cb] = [results.models[a]!.cleanAccuracy, results.models[b]!.cleanAccuracy];
    return ca !== cb ? cb - ca : a.localeCompare(b);
  });
}

function architectureOf(results: ResultsFile, name: string, student: boolean): string {
  const config = recordedConfig(results);
  const ref = student ? (config.students?.find((s) => s.name === name)?.model ?? config.model) : config.teacher?.path ? undefined : (config.teacher?.model ?? config.model);
  const params = Object.entries(ref?.params ?? {}).map(([k, v]) => `${k} ${inline(v)}`).join(', ');
  const model = results.models[name]!;
  const text = ref?.name ? `${ref.name}${params ? ` (${params})` : ''}` : config.teacher?.path && !student ? `loaded from ${config.teacher.path}` : 'not recorded';
  return model.parameters === undefined ? text : `${text}, ${model.parameters.toLocaleString('en-US')} weights`;
}

/** A parameter value in one line: objects as "{name sgd, learningRate 0.1}". */
function inline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k} ${inline(v)}`).join(', ')}}`;
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : String(value);
}

/** The recorded method params (epochs, optimizer, schedule and the method's own) and the run's batch size. */
function recipe(results: ResultsFile, model: ModelResults): string {
  const params = Object.entries(model.methodParams ?? {}).map(([k, v]) => `${k} ${inline(v)}`).join('; ') || 'method params not recorded';
  const batchSize = recordedConfig(results).batchSize;
  return batchSize === undefined ? params : `${params}; batch size ${batchSize}`;
}

/** A teacher in one line, e.g. "teacher (trades on papernot-mnist)". */
function teacherText(teacher: TeacherInfo): string {
  return `${teacher.name}${teacher.method ? ` (${teacher.method}${teacher.model ? ` on ${teacher.model}` : ''})` : ''}${teacher.source === 'loaded' ? `, loaded from ${teacher.path ?? 'a file'}` : ''}`;
}

function perSeedText(s: SeedSummary): string {
  return s.perSeed.length === 0 ? 'per seed not recorded' : `per seed ${s.perSeed.map(([seed, v]) => `${seed}: ${percent(v)}`).join(', ')}`;
}

function modelCard(results: ResultsFile, name: string, student: boolean, measures: readonly string[]): Block[] {
  const model = results.models[name]!;
  const teacher = model.teacher;
  const clean = seedSummary(results, model, CLEAN);
  const seeds = seedsOf(results, model);
  const items: Array<readonly Span[]> = [
    [{ strong: 'Method' }, ': ', { code: model.method }, model.methodDescription ? ` — ${model.methodDescription}` : ' (no description recorded)'],
    [{ strong: 'Architecture' }, ': ', architectureOf(results, name, student)],
    [
      { strong: 'Dataset' },
      `: ${results.dataset.name}${results.dataset.description ? ` (${results.dataset.description})` : ''}; ` +
        `evaluated on the first ${results.evaluatedExamples} of its ${results.dataset.size} test examples, in order, the same examples for every seed`,
    ],
    model.teachers
      ? [{ strong: 'Teachers' }, ': ', Object.entries(model.teachers).map(([role, t]) => `${role}: ${teacherText(t)}`).join('; ')]
      : [{ strong: 'Teacher' }, ': ', teacher ? teacherText(teacher) : 'none'],
    [{ strong: 'Training recipe' }, `: ${recipe(results, model)}`],
    [{ strong: 'Evaluation' }, ': ', `${results.evaluatedExamples} examples per seed; seed${seeds.length === 1 ? '' : 's'} ${seeds.join(', ') || 'n/a'}`],
    [{ strong: 'Clean accuracy (%)' }, ': ', `${summaryText(clean, false)}; ${perSeedText(clean)}`],
  ];
  for (const key of measures) {
    const tm = model.threatModels[key];
    if (!tm) continue;
    const attacks = tm.attacks.map((a) => {
      const summary = model.attacks[a];
      const version = summary?.params['version'];
      return `${summary?.name ?? a}${typeof version === 'string' ? ` (version ${version})` : ''}`;
    });
    const s = seedSummary(results, model, key);
    items.push([{ strong: `Robust accuracy, ${threatModelLabel(results, key)} (%)` }, `: ${summaryText(s, false)}; ${perSeedText(s)}; attack${attacks.length === 1 ? '' : 's'} ${attacks.join(', ')}; per-example worst case`]);
  }
  items.push([{ strong: 'Training time (s)' }, ': ', model.trainingSeconds === undefined ? 'not recorded' : `${seconds(model)}${seeds.length > 1 ? ' (mean ± sd over seeds)' : ''}`]);
  items.push([{ strong: 'Diagnostics' }, ': ', diagnosticsVerdict(model)]);
  return [{ kind: 'heading', level: 3, text: `${name}${student ? '' : ' (teacher)'}` }, { kind: 'list', items }];
}

function header(results: ResultsFile): Block {
  const config = recordedConfig(results);
  const seeds = results.seeds ?? (results.seed !== undefined ? [results.seed] : []);
  const machine = results.machine ? `${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.platform}` : 'not recorded';
  return {
    kind: 'list',
    items: [
      [{ strong: 'Run' }, ': ', config.name ?? 'not recorded'],
      [{ strong: 'Dataset' }, ': ', `${results.dataset.name}${results.dataset.description ? ` (${results.dataset.description})` : ''}, test split of ${results.dataset.size} examples`],
      [{ strong: 'Examples per seed' }, ': ', `the first ${results.evaluatedExamples} test examples, the same for every seed`],
      [{ strong: 'Seeds' }, ': ', seeds.length > 0 ? `${seeds.join(', ')} (${seeds.length})` : 'not recorded'],
      [{ strong: 'Written' }, ': ', `${results.createdAt} by ${writtenBy(results)}`],
      [{ strong: 'Machine' }, ': ', `${machine}; backend ${results.backend.name} (${results.backend.workers} attack worker${results.backend.workers === 1 ? '' : 's'})`],
    ],
  };
}

function row(results: ResultsFile, name: string, measures: readonly string[], rank: string): string[] {
  const model = results.models[name]!;
  return [
    rank,
    name,
    model.method,
    summaryText(seedSummary(results, model, CLEAN)),
    ...measures.map((k) => summaryText(seedSummary(results, model, k))),
    seconds(model),
    diagnosticsVerdict(model),
  ];
}

function intervalSentence(results: ResultsFile, ranked: readonly string[]): string {
  const counts = new Set(ranked.map((n) => seedsOf(results, results.models[n]!).length));
  const multi = [...counts].some((n) => n >= 2);
  return multi
    ? 'Mean ± sd over seeds, and in brackets the 95 % t interval over seeds (mean ± t·sd/√n, n − 1 degrees of freedom, clipped to [0, 100]). Every seed evaluates the same test examples, ' +
        'so the seeds\' counts are not independent and a Wilson interval of the pooled count would be too narrow; the t interval describes the spread from training seeds on this test set ' +
        'and leaves out the test set\'s own sampling error (each seed\'s Wilson interval for its N examples is in report.md).'
    : 'One seed: the sd over seeds is not available (n/a); in brackets the 95 % Wilson interval of that seed\'s N examples (test-set sampling only; nothing is known of the spread over training seeds).';
}

function referenceSection(results: ResultsFile, reference: string | undefined, ranked: readonly string[], measures: readonly string[]): Block[] {
  const heading: Block = { kind: 'heading', level: 2, text: 'Paired comparison with the reference' };
  if (reference === undefined) {
    return [heading, { kind: 'paragraph', spans: ['No reference: the config names none (', { code: 'evaluation.leaderboard.reference' }, '), so no method is compared with one.'] }];
  }
  if (!ranked.includes(reference)) {
    return [heading, { kind: 'paragraph', spans: [`The reference "${reference}" is not a ranked model of this run: no comparison.`] }];
  }
  const comparisons = referenceComparisons(results, reference, ranked, measures);
  const acrossSeeds = comparisons.some((c) => c.test === 't over seeds');
  const rows = ranked.filter((n) => n !== reference).map((name) => [
    name,
    ...measures.flatMap((key) => {
      const c = comparisons.find((x) => x.model === name && x.measure === key);
      if (!c) return ['n/a', 'n/a'];
      const note = c.pValue === null ? (acrossSeeds ? ' (no test: no spread or one seed)' : '') : '';
      return [difference(c.difference, c.interval), `${pValue(c.adjustedPValue)}${note}`];
    }),
  ]);
  return [
    heading,
    {
      kind: 'paragraph',
      spans: [
        'Reference: ', { strong: reference }, ' (', { code: 'evaluation.leaderboard.reference' }, '). Method − reference in percentage points, on the same examples. ',
        acrossSeeds
          ? 'Across seeds: each seed\'s paired difference (example by example), their mean, the 95 % t interval over seeds, and the paired t test over seeds (n − 1 degrees of freedom; with two seeds one degree of freedom, so little power). '
          : 'One seed: the exact McNemar test and Newcombe\'s paired 95 % interval. ',
        `Holm-adjusted over this table's ${ranked.length - 1} comparisons of each threat model.`,
      ],
    },
    {
      kind: 'table',
      header: ['Model', ...measures.flatMap((k) => [`${threatModelLabel(results, k)}: difference (pts) [95 %]`, `${threatModelLabel(results, k)}: Holm p`])],
      rows,
      leftColumns: 1,
    },
  ];
}

function teacherGapSection(results: ResultsFile, ranked: readonly string[], measures: readonly string[]): Block[] {
  const rows = ranked.flatMap((name) => {
    const model = results.models[name]!;
    const teacher = model.teacher?.name;
    if (teacher === undefined) return [];
    const reference = results.models[teacher];
    if (!reference) return [[name, teacher, ...[CLEAN, ...measures].map(() => 'teacher not evaluated')]];
    const gap = (measure: string) => {
      const a = seedSummary(results, model, measure).mean;
      const b = seedSummary(results, reference, measure).mean;
      return a === null || b === null ? 'n/a' : points(a - b);
    };
    return [[name, teacher, gap(CLEAN), ...measures.map(gap)]];
  });
  if (rows.length === 0) return [];
  return [
    { kind: 'heading', level: 2, text: 'Gap to the teacher' },
    { kind: 'paragraph', spans: ['Student − teacher in percentage points: the difference of the seed means (the paired comparisons, per seed and across seeds, are in report.md).'] },
    { kind: 'table', header: ['Model', 'Teacher', 'Clean (pts)', ...measures.map((k) => `${threatModelLabel(results, k)} (pts)`)], rows, leftColumns: 2 },
  ];
}

function figures(results: ResultsFile, names: readonly string[], teachers: ReadonlySet<string>, measures: readonly string[]): Figure[] {
  return measures.map((key) => ({
    type: 'tradeoff' as const,
    title: `Clean vs robust accuracy, ${threatModelLabel(results, key)}`,
    measure: key,
    points: names.flatMap((name) => {
      const model = results.models[name]!;
      const robust = seedSummary(results, model, key);
      const clean = seedSummary(results, model, CLEAN);
      if (robust.mean === null || clean.mean === null) return [];
      return [{ model: name, clean: clean.mean, cleanInterval: clean.interval, robust: robust.mean, robustInterval: robust.interval, teacher: teachers.has(name) }];
    }),
  }));
}

/**
 * The leaderboard of a results file (one seed or merged seeds) as a document both renderers
 * draw: header, teacher, ranking, gap to the teacher, comparison with the reference, figure,
 * model cards.
 *
 * @example
 * const doc = buildLeaderboard(readResults('runs/benchmark-mnist'));
 * writeFileSync('leaderboard.md', documentToMarkdown(doc));
 */
export function buildLeaderboard(results: ResultsFile): ReportDocument {
  const measures = threatModelOrder(results);
  const headline = measures[0];
  const ranked = rankStudents(results, headline);
  const teachers = Object.keys(results.models).filter((n) => !ranked.includes(n));
  const reference = leaderboardReference(results);
  const columns = ['#', 'Model', 'Method', 'Clean (%)', ...measures.map((k) => `Robust ${threatModelLabel(results, k)} (%)`), 'Training (s)', 'Diagnostics'];
  const blocks: Block[] = [header(results)];
  if (teachers.length > 0) {
    blocks.push(
      { kind: 'heading', level: 2, text: 'Teachers' },
      { kind: 'paragraph', spans: ['Not ranked: the models the distilled students learn from (the run\'s teacher, and any student that taught another), evaluated like them.'] },
      { kind: 'table', header: columns, rows: teachers.map((n) => row(results, n, measures, '—')), leftColumns: 3 },
    );
  }
  blocks.push(
    { kind: 'heading', level: 2, text: 'Ranking' },
    {
      kind: 'paragraph',
      spans: [
        headline === undefined
          ? 'No threat model was evaluated: the students are in the order of their clean accuracy.'
          : `Ranked by worst-case robust accuracy under ${threatModelLabel(results, headline)} (the first threat model of the config): the share of the examples classified correctly on the clean input and after every attack of the threat model. `,
        intervalSentence(results, ranked),
        ' Training: wall seconds of the model\'s training job. Diagnostics: "ok" when every gradient-masking check that ran passed, else the flagged checks; "not checked" when none ran.',
      ],
    },
    { kind: 'table', header: columns, rows: ranked.map((n, i) => row(results, n, measures, String(i + 1))), leftColumns: 3 },
    ...teacherGapSection(results, ranked, measures),
    ...referenceSection(results, reference, ranked, measures),
    { kind: 'heading', level: 2, text: 'Clean vs robust accuracy' },
    { kind: 'paragraph', spans: ['Seed means, with the intervals of the ranking as error bars on both axes; the teacher is drawn as a square.'] },
    { kind: 'figures', figures: figures(results, [...teachers, ...ranked], new Set(teachers), measures), empty: 'No threat model was evaluated.' },
    { kind: 'heading', level: 2, text: 'Model cards' },
    ...teachers.flatMap((n) => modelCard(results, n, false, measures)),
    ...ranked.flatMap((n) => modelCard(results, n, true, measures)),
  );
  return { title: `Leaderboard — ${recordedConfig(results).name ?? results.dataset.name}`, blocks, htmlFile: 'leaderboard.html' };
}
