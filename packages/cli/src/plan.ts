import { join } from 'node:path';
import { ConfigError } from '@tempered/core/node';
import { defaultTransferSource } from '@tempered/evaluation';
import type { PluginRef, RunConfig } from './config.js';

/**
 * A run as a plan of jobs (a DAG): for each seed, one training job per model (the teacher, then
 * each student), one evaluation job per model of the run (each student, and the run's teacher when one
 * distils from it), one job assembling that seed's results.json,
 * and, with several seeds, one report job merging them. Each job reads only files its dependencies wrote, so any job can run in any
 * process, on any machine sharing the run directory, once its dependencies are done.
 */

/** The model name the trained teacher gets in models/ and results. */
export const TEACHER = 'teacher';

export interface TrainJob {
  readonly kind: 'train';
  readonly id: string;
  readonly seed: number;
  /** Model name in models/, checkpoints/ and results. */
  readonly model: string;
  /** The method that trains it: any registered method (the teacher's too). */
  readonly method: PluginRef;
  readonly architecture: PluginRef;
  /** Model name of the teacher it distils from, when its method takes one (the primary role's when it takes several). */
  readonly teacher?: string;
  /** Model name of each role's teacher (role → name, the method's primary role first), when its method declares several roles. */
  readonly teachers?: Readonly<Record<string, string>>;
  /** True for the run's teacher (trained here): saved, and evaluated like every model of the run. */
  readonly isTeacher: boolean;
  readonly dependsOn: readonly string[];
  /** Directory of this seed's models, checkpoints and metrics.jsonl (relative to the run directory). */
  readonly dir: string;
  readonly writes: readonly string[];
  /** Depth in the plan: 1 for jobs without dependencies. Scheduler steps run one depth each. */
  readonly step: number;
}

/** All attacks on one model of the run (a student, or the run's teacher): its part of the seed's results. */
export interface EvaluateJob {
  readonly kind: 'evaluate';
  readonly id: string;
  readonly seed: number;
  readonly dir: string;
  readonly model: string;
  /** The teacher agreement is measured against: the model's own (its primary role's), else the run's. */
  readonly teacher?: string;
  /** A several-teacher student's teachers by role (as its {@link TrainJob.teachers}), recorded in results. */
  readonly teachers?: Readonly<Record<string, string>>;
  /** Another student whose adversarials the transfer check replays on this one (the baseline). */
  readonly transferFrom?: string;
  readonly dependsOn: readonly string[];
  readonly writes: readonly string[];
  readonly step: number;
}

/** One seed's results.json, report and leaderboard from its students' evaluations. */
export interface ResultsJob {
  readonly kind: 'results';
  readonly id: string;
  readonly seed: number;
  readonly dir: string;
  /** The run's teacher (when it has one), then the students in config order. */
  readonly models: readonly string[];
  readonly dependsOn: readonly string[];
  readonly writes: readonly string[];
  readonly step: number;
}

export interface ReportJob {
  readonly kind: 'report';
  readonly id: string;
  readonly seeds: readonly number[];
  readonly dependsOn: readonly string[];
  readonly writes: readonly string[];
  readonly step: number;
}

export type Job = TrainJob | EvaluateJob | ResultsJob | ReportJob;

export interface Plan {
  /** In a valid execution order: every job after its dependencies. */
  readonly jobs: readonly Job[];
}

/** The method that trains the run's teacher: `teacher.method` (default `standard`, 3 epochs). */
export function teacherMethod(config: RunConfig): PluginRef {
  return config.teacher?.method ?? { name: 'standard', params: { epochs: 3 } };
}

/** Id of the job that trains `model` (a student, or the run's teacher) for `seed`. */
export function trainJobId(seed: number, model: string): string {
  return `seed-${seed}/${model}`;
}

/** What a seed's results job and the run's report job write beside results.json. */
export const REPORT_FILES = ['report.md', 'report.html', 'leaderboard.md', 'leaderboard.html'] as const;

/** Run-relative directory of one seed's files: the run directory itself with a single seed. */
export function seedDir(config: RunConfig, seed: number): string {
  return config.seeds.length > 1 ? `seed-${seed}` : '.';
}

function rel(dir: string, path: string): string {
  return dir === '.' ? path : join(dir, path);
}

/** Whether a method distils from a teacher, as its plugin declares it. */
export type TeacherUse = 'required' | 'optional' | 'none';

/**
 * The student whose adversarials the transfer check replays on every other model:
 * `evaluation.transferFrom` when given (false: none), else the first student whose method declares
 * it trains without a teacher and without adversarial examples (`trainsClean`). Undefined: no
 * source, and the check reports why it did not run.
 */
export function transferSourceOf(config: RunConfig, trainsClean: (method: PluginRef) => boolean): { readonly name: string } | undefined {
  const chosen = config.evaluation.transferFrom;
  if (chosen === false) return undefined;
  if (chosen !== undefined) return config.students.find((s) => s.name === chosen);
  return defaultTransferSource(config.students.map((s) => ({ name: s.name, transferCandidate: trainsClean(s.method) })));
}

/**
 * Derives the plan from a config. `teacherUse(method)`, `trainsClean(method)` and
 * `teacherRoles(method)` (the roles a several-teacher method declares, primary first) are asked
 * of the method plugin; the plan itself knows no concrete method. A student with
 * `teachers` waits for every role's teacher.
 */
export function buildPlan(
  config: RunConfig,
  teacherUse: (method: PluginRef) => TeacherUse,
  trainsClean: (method: PluginRef) => boolean = () => false,
  teacherRoles: (method: PluginRef) => readonly string[] | undefined = () => undefined,
): Plan {
  const jobs: Job[] = [];
  const steps = new Map<string, number>();
  const add = <J extends Job>(job: Omit<J, 'step'>): J => {
    const step = 1 + Math.max(0, ...job.dependsOn.map((d) => steps.get(d) ?? 0));
    steps.set(job.id, step);
    const full = { ...job, step } as J;
    jobs.push(full);
    return full;
  };
  // Students that name another student as their teacher do not need the run's teacher.
  const namesRunTeacher = (s: RunConfig['students'][number]) => Object.values(s.teachers ?? {}).includes(TEACHER);
  const trainsTeacher =
    !config.teacher?.path &&
    (config.teacher !== undefined || config.students.some((s) => (s.teacher === undefined && s.teachers === undefined && teacherUse(s.method) === 'required') || namesRunTeacher(s)));
  const hasTeacher = trainsTeacher || config.teacher?.path !== undefined;
  const seedResults: string[] = [];
  for (const seed of config.seeds) {
    const dir = seedDir(config, seed);
    const trainWrites = (model: string) => [rel(dir, `models/${model}/`), rel(dir, `checkpoints/${model}/`), rel(dir, 'metrics.jsonl')];
    let teacherJob: TrainJob | undefined;
    if (trainsTeacher) {
      teacherJob = add<TrainJob>({
        kind: 'train',
        id: trainJobId(seed, TEACHER),
        seed,
        model: TEACHER,
        method: teacherMethod(config),
        architecture: config.teacher?.model ?? config.model,
        isTeacher: true,
        dependsOn: [],
        dir,
        writes: trainWrites(TEACHER),
      });
    }
    const trainJobs = new Map<string, TrainJob>();
    // The job that makes a model of this seed: the run's teacher (none when loaded) or a student.
    const jobOf = (name: string) => (name === TEACHER ? teacherJob : trainJobs.get(name));
    const students = config.students.map((s) => {
      // A several-teacher method names each role's teacher (students[i].teachers), in the method's role order.
      const roles = s.teachers ? (teacherRoles(s.method) ?? Object.keys(s.teachers)) : undefined;
      const teachers = roles ? Object.fromEntries(roles.map((role) => [role, s.teachers![role]!])) : undefined;
      const distils = teachers !== undefined || (teacherUse(s.method) !== 'none' && (s.teacher !== undefined || hasTeacher));
      // A student may distil from an earlier student of the run (students[i].teacher) instead of the run's teacher.
      const sources = teachers ? [...new Set(Object.values(teachers))].map(jobOf) : [s.teacher !== undefined ? trainJobs.get(s.teacher)! : teacherJob];
      const job = add<TrainJob>({
        kind: 'train',
        id: trainJobId(seed, s.name),
        seed,
        model: s.name,
        method: s.method,
        architecture: s.model ?? config.model,
        teacher: teachers ? teachers[roles![0]!] : distils ? (s.teacher ?? TEACHER) : undefined,
        ...(teachers ? { teachers } : {}),
        isTeacher: false,
        dependsOn: distils ? sources.filter((j): j is TrainJob => j !== undefined).map((j) => j.id) : [],
        dir,
        writes: trainWrites(s.name),
      });
      trainJobs.set(s.name, job);
      return job;
    });
    // Each model is evaluated in its own job, so the transfer check's source is handed to every
    // other model's evaluation as an extra, unevaluated model.
    const source = transferSourceOf(config, trainsClean);
    const evaluations = students.map((student, i) => {
      // Agreement is measured against the model's own teacher (its primary role's), else the run's teacher.
      const own = config.students[i]!.teacher ?? (student.teachers ? student.teacher : undefined);
      const teacherName = own ?? (hasTeacher ? TEACHER : undefined);
      const ownJob = own !== undefined ? jobOf(own) : teacherJob;
      const teacherDeps = ownJob ? [ownJob.id] : [];
      const transferFrom = source && source.name !== student.model ? source.name : undefined;
      const transferDeps = transferFrom ? [trainJobs.get(transferFrom)!.id] : [];
      return add<EvaluateJob>({
        kind: 'evaluate',
        id: `seed-${seed}/evaluate/${student.model}`,
        seed,
        dir,
        model: student.model,
        teacher: teacherName,
        ...(student.teachers ? { teachers: student.teachers } : {}),
        ...(transferFrom ? { transferFrom } : {}),
        dependsOn: [...new Set([...teacherDeps, ...transferDeps, student.id])],
        writes: [rel(dir, `evaluations/${student.model}.json`)],
      });
    });
    // The run's teacher, trained or loaded, is a model of the run: evaluated like the students,
    // so its students can be read against it (a teacher that teaches nothing is not worth the cost).
    const teaches = students.some((s) => s.teacher === TEACHER || Object.values(s.teachers ?? {}).includes(TEACHER));
    const teacherEvaluation = hasTeacher && teaches
      ? [
          add<EvaluateJob>({
            kind: 'evaluate',
            id: `seed-${seed}/evaluate/${TEACHER}`,
            seed,
            dir,
            model: TEACHER,
            ...(source ? { transferFrom: source.name } : {}),
            dependsOn: [...(teacherJob ? [teacherJob.id] : []), ...(source ? [trainJobs.get(source.name)!.id] : [])],
            writes: [rel(dir, `evaluations/${TEACHER}.json`)],
          }),
        ]
      : [];
    const results = add<ResultsJob>({
      kind: 'results',
      id: `seed-${seed}/results`,
      seed,
      dir,
      models: [...teacherEvaluation.map((e) => e.model), ...students.map((s) => s.model)],
      dependsOn: [...teacherEvaluation, ...evaluations].map((e) => e.id),
      writes: ['results.json', ...REPORT_FILES].map((f) => rel(dir, f)),
    });
    seedResults.push(results.id);
  }
  if (config.seeds.length > 1) {
    add<ReportJob>({ kind: 'report', id: 'report', seeds: config.seeds, dependsOn: seedResults, writes: ['results.json', ...REPORT_FILES] });
  }
  return { jobs };
}

/** The plan as `tempered run --plan` prints it: one line per job, then what it writes. */
export function formatPlan(plan: Plan): string[] {
  const width = Math.max(...plan.jobs.map((j) => j.id.length));
  const lines = [`${plan.jobs.length} jobs in ${Math.max(...plan.jobs.map((j) => j.step))} steps (a job runs once its dependencies are done)`];
  for (const job of plan.jobs) {
    const what =
      job.kind === 'train'
        ? `train ${job.model} (${job.method.name})${job.teachers ? ` from ${Object.entries(job.teachers).map(([role, name]) => `${role}: ${name}`).join(', ')}` : ''}`
        : job.kind === 'evaluate'
          ? `evaluate ${job.model}`
          : job.kind === 'results'
            ? `results of ${job.models.length} model(s)`
            : `merge ${job.seeds.length} seeds`;
    lines.push(`step ${job.step}  ${job.id.padEnd(width)}  ${what}`);
    lines.push(`        after: ${job.dependsOn.length ? job.dependsOn.join(', ') : '-'}`);
    lines.push(`        writes: ${job.writes.join(', ')}`);
  }
  return lines;
}

/** A `--shard I/N` argument: I in [0, N), as Slurm array and Kubernetes completion indices count. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function parseShard(value: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count) throw new ConfigError('--shard', `expected I/N with 0 ≤ I < N (e.g. 0/4), got "${value}"`);
  return { index, count };
}

/**
 * The jobs a shard owns: within each step (optionally only `step`), jobs are dealt round-robin in
 * plan order, so the shards of one step are balanced and every job belongs to exactly one shard.
 */
export function shardJobs(plan: Plan, shard: Shard, step?: number): Job[] {
  const owned: Job[] = [];
  const seenInStep = new Map<number, number>();
  for (const job of plan.jobs) {
    const k = seenInStep.get(job.step) ?? 0;
    seenInStep.set(job.step, k + 1);
    if (step !== undefined && job.step !== step) continue;
    if (k % shard.count === shard.index) owned.push(job);
  }
  return owned;
}
