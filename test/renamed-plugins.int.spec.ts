import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { register as registerAttacks } from '@tempered/attacks';
import { buildPlan, preflight, registerBuiltins, teacherUse, trainsClean, validateConfig, type EvaluateJob } from '@tempered/cli';
import { evaluate, register as registerMetrics, type ModelUnderEvaluation } from '@tempered/evaluation/node';
import { parseResults, renderReports, writeResults, type ResultsFile } from '@tempered/reports/node';
import { expectNoLeaks } from '../packages/core/src/testing.js';
import { fixtureDataset, fixtureModel } from '../packages/evaluation/src/spec-fixtures.js';
// @ts-expect-error plain ESM fixture without types
import { RENAMED_ATTACKS, RENAMED_METHODS, register as registerRenamed } from '../packages/evaluation/fixtures/renamed-plugin.mjs';
import { ROOT, tempDir } from './helpers.js';

const ATTACKS = RENAMED_ATTACKS as Record<string, string>;
const METHODS = RENAMED_METHODS as Record<string, string>;
const MODELS: Record<string, string> = { baseline: 'reference', 'defensive-distillation': 'student-a', ard: 'student-b', crdnd: 'student-c' };

interface RawAttack { name: string; mode?: string; params?: Record<string, unknown> }
interface RawConfig {
  teacher: { method: string };
  students: Array<{ name: string; method: string; params?: Record<string, unknown> }>;
  evaluation: { attacks: RawAttack[] } & Record<string, unknown>;
}

/** The quickstart config with every model, method and attack renamed, and no attack's mode given. */
function renamedQuickstart(): { original: RawConfig; renamed: RawConfig } {
  const original = parse(readFileSync(join(ROOT, 'examples/quickstart/config.yaml'), 'utf8')) as RawConfig;
  const renamed: RawConfig = {
    ...original,
    teacher: { ...original.teacher, method: METHODS[original.teacher.method]! },
    students: original.students.map((s) => ({ ...s, name: MODELS[s.name]!, method: METHODS[s.method]! })),
    evaluation: { ...original.evaluation, attacks: original.evaluation.attacks.map(({ mode: _mode, ...a }) => ({ ...a, name: ATTACKS[a.name]!, as: ATTACKS[a.name]! })) },
  };
  return { original, renamed };
}

function scope() {
  const c = rootContainer.createChildContainer();
  registerBuiltins(c);
  registerRenamed(c);
  return c;
}

describe('no plugin name in the framework', () => {
  // Importing the CLI registers the wasm backend; these fixtures are tiny, cpu is the reference.
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the quickstart with every model, method and attack renamed plans the same jobs and the same transfer source', () => {
    const { original, renamed } = renamedQuickstart();
    const c = scope();
    const plan = (raw: RawConfig) => buildPlan(validateConfig(raw), (ref) => teacherUse(c, ref), (ref) => trainsClean(c, ref));
    const before = plan(original);
    const after = plan(renamed);
    const rename = (text: string) => text.replace(/[a-z-]+$/, (name) => MODELS[name] ?? name);
    expect(after.jobs.map((j) => j.id)).toEqual(before.jobs.map((j) => rename(j.id)));
    const transfer = (jobs: typeof before.jobs) => jobs.filter((j): j is EvaluateJob => j.kind === 'evaluate').map((j) => j.transferFrom ?? null);
    // The source is the model whose method declares it trains without a teacher or adversarial examples.
    // Five evaluations: the four students and the teacher they learn from; the source itself has none.
    expect(transfer(before.jobs)).toEqual([null, 'baseline', 'baseline', 'baseline', 'baseline']);
    expect(transfer(after.jobs)).toEqual([null, 'reference', 'reference', 'reference', 'reference']);
    // Without a mode the attack's own default applies, decided by the engine, never by its name.
    expect(validateConfig(renamed).evaluation.attacks.every((a) => a.mode === undefined)).toBe(true);
    // The renamed plugins pass preflight, an outside metric included; an unknown metric is refused before any training.
    expect(() => preflight(c, validateConfig({ ...renamed, evaluation: { ...renamed.evaluation, metrics: ['row-counter'] } }))).not.toThrow();
    expect(() => preflight(c, validateConfig({ ...renamed, evaluation: { ...renamed.evaluation, metrics: ['row-countr'] } }))).toThrow(/evaluation\.metrics\[0\]\.name: .*row-countr/);
  });

  it('a cheap quickstart evaluation renamed end to end runs the same checks; an outside metric lands in results.json and report.md', async () => {
    const attackList = (names: Record<string, string>, withModes: boolean) => [
      { name: names['fgsm']!, params: { epsilon: 0.3 } },
      { name: names['pgd']!, params: { epsilon: 0.3, steps: 10 } },
      { name: names['autoattack']!, params: { epsilon: 0.3, version: 'custom', attacks: 'apgd-ce,apgd-t,square', steps: 10, targetClasses: 2, queries: 40 } },
      { name: names['jsma']!, params: { gamma: 0.3 }, ...(withModes ? { mode: 'targeted' as const } : {}) },
      { name: names['cw']!, params: { binarySearchSteps: 2, maxIterations: 10 } },
    ];
    const same = Object.fromEntries(Object.keys(ATTACKS).map((k) => [k, k]));
    const run = async (names: Record<string, string>, models: Record<string, string>, withModes: boolean): Promise<ResultsFile> => {
      const c = rootContainer.createChildContainer();
      registerMetrics(c);
      registerAttacks(c);
      registerRenamed(c);
      const clean = fixtureModel(models['baseline']);
      const saturated = fixtureModel(models['defensive-distillation'], 5000); // distilled at high T, deployed at T = 1
      const entries: ModelUnderEvaluation[] = [
        { name: models['baseline']!, method: METHODS['standard']!, model: clean, transferCandidate: true },
        { name: models['defensive-distillation']!, method: METHODS['defensive-distillation']!, model: saturated },
      ];
      try {
        return await expectNoLeaks(() =>
          evaluate({
            container: c, test: fixtureDataset(16), examples: 12, batchSize: 6, seed: 3,
            attacks: attackList(names, withModes),
            metrics: [{ name: 'row-counter', key: 'rows' }],
            models: entries,
            diagnostics: { sweep: { epsilons: [0.3, 1], examples: 6 }, reruns: { examples: 6 } },
          }),
        );
      } finally {
        clean.dispose();
        saturated.dispose();
      }
    };
    const before = await run(same, { baseline: 'baseline', 'defensive-distillation': 'defensive-distillation' }, true);
    const after = await run(ATTACKS, MODELS, false);
    const key = (k: string) => k.replace(/^[a-z]+(?=(-margin)?$)/, (name) => ATTACKS[name] ?? name);
    for (const [name, renamed] of [['baseline', 'reference'], ['defensive-distillation', 'student-a']] as const) {
      const b = before.models[name]!;
      const a = after.models[renamed]!;
      // The same runs, margin twin included, with the same modes, kinds and sizes. (Random starts
      // derive from the model's name and the attack's key, so only deterministic FGSM's numbers
      // must be identical.)
      expect(Object.keys(a.attacks)).toEqual(Object.keys(b.attacks).map(key));
      expect(Object.keys(b.attacks)).toContain('pgd-margin');
      for (const [k, summary] of Object.entries(b.attacks)) {
        const other = a.attacks[key(k)]!;
        expect([other.mode, other.kind, other.pairs, other.traits]).toEqual([summary.mode, summary.kind, summary.pairs, summary.traits]);
      }
      expect(a.attacks['probe-one']!.robustAccuracy).toBe(b.attacks['fgsm']!.robustAccuracy);
      expect(a.attacks['probe-four']!.mode).toBe('targeted');
      expect(a.epsilonSweep?.attack).toBe('probe-two');
      expect(b.epsilonSweep?.attack).toBe('pgd');
      expect(Object.keys(a.threatModels)).toEqual(Object.keys(b.threatModels));
      expect(Object.values(a.threatModels).map((t) => t.ran.length)).toEqual(Object.values(b.threatModels).map((t) => t.ran.length));
      // Every check ran (or did not) alike.
      const verdicts = (m: typeof a) => m.diagnostics.map((d) => `${d.id}:${d.status === 'not-run' ? 'not-run' : 'ran'}`).sort();
      expect(verdicts(a)).toEqual(verdicts(b));
      for (const id of ['black-box-beats-white-box', 'transfer-beats-white-box', 'stronger-attack-gap', 'iterative-weaker-than-single-step']) {
        if (name !== 'baseline' || id !== 'transfer-beats-white-box') expect(verdicts(a)).toContain(`${id}:ran`);
      }
    }
    expect(after.models['student-a']!.threatModels['linf:0.3']!.reruns?.['transfer']).toBeDefined();

    // The outside metric saw every clean row and every adversarial row, and is reported.
    const dir = tempDir('renamed');
    writeResults(dir, after);
    const written = parseResults(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    for (const m of Object.values(written.models)) {
      const rows = m.metrics!['rows']!;
      expect(rows.name).toBe('row-counter');
      const value = rows.value as Record<string, number>;
      expect(value['cleanRows']).toBe(12);
      expect(value['cleanErrors']).toBe(Math.round((1 - m.cleanAccuracy) * 12));
      expect(value['attackRows']).toBe(Object.values(m.attacks).reduce((n, s) => n + s.pairs, 0));
    }
    const { markdown } = renderReports(dir);
    const md = readFileSync(markdown, 'utf8');
    expect(md).toContain('## Metrics');
    const ref = written.models['reference']!.metrics!['rows']!.value as Record<string, number>;
    expect(md).toContain(`| reference | rows | row-counter | cleanErrors: ${ref['cleanErrors']!.toFixed(4)}; cleanRows: 12.0000; attackRows: ${ref['attackRows']!.toFixed(4)} |`);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('row-counter');
  });
});
