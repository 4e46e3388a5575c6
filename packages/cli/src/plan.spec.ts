import { describe, expect, it } from 'vitest';
import { validateConfig } from './config.js';
import { buildPlan, formatPlan, parseShard, shardJobs, type TeacherUse } from './plan.js';

/** Teacher use as the built-in methods declare it (kd and ard distil; standard and pgd-at do not). */
const USE: Record<string, TeacherUse> = { standard: 'none', 'pgd-at': 'none', kd: 'required', ard: 'required', 'defensive-distillation': 'optional' };
const teacherUse = (ref: { name: string }): TeacherUse => USE[ref.name]!;
/** Methods that declare `teacher: 'none'` and `adversarial: false` (standard training). */
const trainsClean = (ref: { name: string }): boolean => ref.name === 'standard';

const config = (extra: Record<string, unknown> = {}) =>
  validateConfig({
    dataset: 'mnist',
    model: 'mlp',
    students: [
      { name: 'baseline', method: 'standard' },
      { name: 'kd', method: 'kd' },
      { name: 'dd', method: 'defensive-distillation' },
      { name: 'at', method: 'pgd-at' },
    ],
    ...extra,
  });

describe('plan of jobs', () => {
  it('orders teacher → students → evaluations → results, with dependencies only where a teacher is used', () => {
    const plan = buildPlan(config(), teacherUse, trainsClean);
    const byId = new Map(plan.jobs.map((j) => [j.id, j]));
    expect(plan.jobs.map((j) => j.id)).toEqual([
      'seed-1/teacher',
      'seed-1/baseline',
      'seed-1/kd',
      'seed-1/dd',
      'seed-1/at',
      'seed-1/evaluate/baseline',
      'seed-1/evaluate/kd',
      'seed-1/evaluate/dd',
      'seed-1/evaluate/at',
      'seed-1/evaluate/teacher',
      'seed-1/results',
    ]);
    expect(byId.get('seed-1/baseline')!.dependsOn).toEqual([]);
    expect(byId.get('seed-1/kd')!.dependsOn).toEqual(['seed-1/teacher']);
    expect(byId.get('seed-1/dd')!.dependsOn).toEqual(['seed-1/teacher']);
    // Evaluation reports agreement with the teacher, so it waits for the teacher too, and replays the
    // baseline's adversarials (the transfer check), so it waits for the baseline.
    expect(byId.get('seed-1/evaluate/at')!.dependsOn).toEqual(['seed-1/teacher', 'seed-1/baseline', 'seed-1/at']);
    expect(byId.get('seed-1/evaluate/at')).toMatchObject({ transferFrom: 'baseline' });
    expect(byId.get('seed-1/evaluate/baseline')).not.toHaveProperty('transferFrom');
    // The teacher is a model of the run: evaluated like the students, first in results.json.
    expect(byId.get('seed-1/evaluate/teacher')).toMatchObject({ model: 'teacher', transferFrom: 'baseline', dependsOn: ['seed-1/teacher', 'seed-1/baseline'] });
    expect(byId.get('seed-1/evaluate/teacher')).not.toHaveProperty('teacher');
    expect(byId.get('seed-1/results')).toMatchObject({ models: ['teacher', 'baseline', 'kd', 'dd', 'at'] });
    expect(byId.get('seed-1/results')!.dependsOn).toHaveLength(5);
    expect(plan.jobs.map((j) => j.step)).toEqual([1, 1, 2, 2, 1, 2, 3, 3, 2, 2, 4]);
    // Every job comes after its dependencies.
    plan.jobs.forEach((job, i) => job.dependsOn.forEach((d) => expect(plan.jobs.findIndex((j) => j.id === d)).toBeLessThan(i)));
  });

  it('trains no teacher when no method needs one, and loads it from teacher.path when given', () => {
    const none = buildPlan(validateConfig({ dataset: 'mnist', model: 'mlp', students: [{ method: 'standard' }, { method: 'pgd-at' }] }), teacherUse);
    expect(none.jobs.map((j) => j.id)).toEqual(['seed-1/standard', 'seed-1/pgd-at', 'seed-1/evaluate/standard', 'seed-1/evaluate/pgd-at', 'seed-1/results']);
    const loaded = buildPlan(config({ teacher: { path: '/models/t' } }), teacherUse, trainsClean);
    expect(loaded.jobs.some((j) => j.id === 'seed-1/teacher')).toBe(false);
    const kd = loaded.jobs.find((j) => j.id === 'seed-1/kd');
    expect(kd).toMatchObject({ teacher: 'teacher', dependsOn: [] });
    // A loaded teacher is evaluated too, as soon as the transfer source is trained.
    expect(loaded.jobs.find((j) => j.id === 'seed-1/evaluate/teacher')).toMatchObject({ dependsOn: ['seed-1/baseline'] });
  });

  it('makes a several-teacher student wait for every role, primary role first, and shows them in --plan', () => {
    const roles = (ref: { name: string }) => (ref.name === 'mtard' ? ['robust', 'clean'] : undefined);
    const use = (ref: { name: string }): TeacherUse => (ref.name === 'mtard' ? 'required' : teacherUse(ref));
    const twoTeachers = validateConfig({
      dataset: 'mnist',
      model: 'mlp',
      seeds: [1, 2],
      students: [
        { name: 'big', method: 'standard', model: 'papernot-mnist' },
        { name: 'at', method: 'pgd-at' },
        // Written clean first: the plan orders the roles as the method declares them.
        { name: 'mt', method: 'mtard', teachers: { clean: 'big', robust: 'teacher' } },
      ],
    });
    const plan = buildPlan(twoTeachers, use, trainsClean, roles);
    const byId = new Map(plan.jobs.map((j) => [j.id, j]));
    // No student names the run's teacher but mtard's robust role, which alone makes the plan train one.
    expect(byId.get('seed-1/teacher')).toMatchObject({ kind: 'train', isTeacher: true });
    const mt = byId.get('seed-2/mt')!;
    expect(mt).toMatchObject({ teacher: 'teacher', dependsOn: ['seed-2/teacher', 'seed-2/big'], step: 2 });
    expect(mt.kind === 'train' && Object.entries(mt.teachers!)).toEqual([['robust', 'teacher'], ['clean', 'big']]);
    expect(byId.get('seed-1/big')).toMatchObject({ architecture: { name: 'papernot-mnist' }, dependsOn: [] });
    expect(byId.get('seed-1/big')).not.toHaveProperty('teachers');
    // Agreement is measured against the primary (robust) teacher; the evaluation records every role.
    expect(byId.get('seed-1/evaluate/mt')).toMatchObject({ teacher: 'teacher', teachers: { robust: 'teacher', clean: 'big' } });
    expect(byId.get('seed-1/evaluate/mt')!.dependsOn).toEqual(['seed-1/teacher', 'seed-1/big', 'seed-1/mt']);
    expect(byId.get('seed-1/results')).toMatchObject({ models: ['teacher', 'big', 'at', 'mt'] });
    const lines = formatPlan(plan);
    expect(lines).toContain(`step 2  ${'seed-1/mt'.padEnd(Math.max(...plan.jobs.map((j) => j.id.length)))}  train mt (mtard) from robust: teacher, clean: big`);
    // Shards still own every job exactly once.
    const shards = [0, 1, 2].map((index) => shardJobs(plan, { index, count: 3 }).map((j) => j.id));
    expect(shards.flat().sort()).toEqual(plan.jobs.map((j) => j.id).sort());
    // A one-teacher run's plan is unchanged by the roles callback.
    expect(buildPlan(config(), teacherUse, trainsClean, roles)).toEqual(buildPlan(config(), teacherUse, trainsClean));
  });

  it('gives each seed its own jobs and directory, and merges the seeds in a report job', () => {
    const plan = buildPlan(config({ seeds: [1, 2] }), teacherUse);
    expect(plan.jobs).toHaveLength(23);
    const report = plan.jobs.at(-1)!;
    expect(report).toMatchObject({ kind: 'report', dependsOn: ['seed-1/results', 'seed-2/results'], step: 5 });
    expect(plan.jobs.find((j) => j.id === 'seed-2/kd')).toMatchObject({ dir: 'seed-2', dependsOn: ['seed-2/teacher'], writes: ['seed-2/models/kd/', 'seed-2/checkpoints/kd/', 'seed-2/metrics.jsonl'] });
    expect(formatPlan(plan)[0]).toBe('23 jobs in 5 steps (a job runs once its dependencies are done)');
  });

  it('deals every job to exactly one shard, balanced within each step', () => {
    const plan = buildPlan(config({ seeds: [1, 2, 3] }), teacherUse);
    for (const count of [1, 2, 3, 5]) {
      const shards = Array.from({ length: count }, (_, index) => shardJobs(plan, { index, count }).map((j) => j.id));
      expect(shards.flat().sort()).toEqual(plan.jobs.map((j) => j.id).sort());
      const stepTwo = Array.from({ length: count }, (_, index) => shardJobs(plan, { index, count }, 2).length);
      expect(Math.max(...stepTwo) - Math.min(...stepTwo)).toBeLessThanOrEqual(1);
    }
  });

  it('parses --shard I/N with 0 ≤ I < N and refuses anything else in one line', () => {
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const bad of ['4/4', '1/0', '-1/2', '1', 'a/b']) expect(() => parseShard(bad)).toThrow(/--shard: expected I\/N with 0 ≤ I < N/);
  });
});
