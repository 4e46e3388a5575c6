import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { fileURLToPath } from 'node:url';
import { expectNoLeaks } from '../../core/src/testing.js';
import { parseResults, type ResultsFile } from '@tempered/reports';
import { benchEvaluationSpeedup, evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';
// @ts-expect-error plain ESM fixture without types (it must also load inside worker threads)
import { register as registerFakeAttacks } from '../fixtures/fake-attacks.mjs';

const FAKE_ATTACKS = new URL('../fixtures/fake-attacks.mjs', import.meta.url).href;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function scope() {
  const c = container.createChildContainer();
  register(c);
  registerFakeAttacks(c);
  return c;
}

const test = fixtureDataset(24);
const attacks = [
  { name: 'sign-step', params: { epsilon: 0.3 } },
  { name: 'seeded-pgd', params: { epsilon: 0.3, steps: 5, stepSize: 0.1 } },
];

describe('evaluate (in-process)', () => {
  it('evaluates the first N examples in order and writes every field the report needs', async () => {
    const model = fixtureModel('calibrated');
    const teacher = fixtureModel('teacher');
    try {
      const results = await expectNoLeaks(() =>
        evaluate({
          container: scope(), test, examples: 20, batchSize: 8, seed: 3, attacks: [...attacks, { name: 'seeded-pgd', mode: 'targeted', params: { epsilon: 0.5, steps: 5 } }],
          models: [
            {
              name: 'calibrated',
              method: 'standard',
              model,
              teacher,
              teacherInfo: { name: 'teacher', source: 'trained', method: 'trades', methodParams: { beta: 6 }, model: 'mlp' },
              training: { student: [{ epoch: 1, loss: 0.9, accuracy: 0.6 }] },
            },
          ],
          diagnostics: { sweep: { attack: 'seeded-pgd', epsilons: [0.1, 0.5, 1], examples: 12 }, marginAttack: false },
        }),
      );
      expect(parseResults(JSON.parse(JSON.stringify(results)))).toBeTruthy();
      expect(results.evaluatedExamples).toBe(20);
      const m = results.models['calibrated']!;
      expect(m.cleanAccuracy).toBeGreaterThan(0.8);
      expect(m.agreement).toBe(1);
      expect(Object.keys(m.attacks)).toEqual(['sign-step', 'seeded-pgd', 'seeded-pgd-2']);
      const targeted = m.attacks['seeded-pgd-2']!;
      expect(targeted.mode).toBe('targeted');
      expect(targeted.pairs).toBe(20 * 2);
      for (const a of Object.values(m.attacks)) {
        // Two metrics computed apart must agree: an untargeted success turns a correct example
        // wrong, so robust accuracy = clean accuracy × (1 − success rate over correct examples).
        if (a.mode === 'untargeted') expect(a.robustAccuracy!).toBeCloseTo(m.cleanAccuracy * (1 - a.successRate!), 9);
        if (a.meanLinf !== null) expect(a.meanLinf).toBeLessThanOrEqual(a.epsilon! + 1e-5);
      }
      // Two threat models: L∞ 0.3 (sign-step, seeded-pgd) and L∞ 0.5 (the targeted run); each its own worst case.
      expect(Object.keys(m.threatModels).sort()).toEqual(['linf:0.3', 'linf:0.5']);
      expect(m.threatModels['linf:0.3']!.attacks).toEqual(['sign-step', 'seeded-pgd']);
      expect(m.threatModels['linf:0.5']!.attacks).toEqual(['seeded-pgd-2']);
      // The attacks do something on this model, so the identity above is not 0 = 0.
      expect(Math.max(...Object.values(m.attacks).map((a) => a.successRate ?? 0))).toBeGreaterThan(0);
      expect(m.teacher).toEqual({ name: 'teacher', source: 'trained', method: 'trades', methodParams: { beta: 6 }, model: 'mlp' });
      // At ε = the whole input range every template can be turned into another.
      expect(m.epsilonSweep!.points.at(-1)!.robustAccuracy).toBe(0);
      expect(m.gradientHistogram.count).toBe(20);
      expect(m.diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
      expect(m.examples['seeded-pgd']!.length).toBeGreaterThan(0);
      expect(m.examples['seeded-pgd']![0]!.clean).toHaveLength(16);
    } finally {
      model.dispose();
      teacher.dispose();
    }
  });

  it('reports each clean pass, attack and sweep point as one numbered step of a known total', async () => {
    const a = fixtureModel('calibrated');
    const b = fixtureModel('teacher');
    try {
      const record = async (sweepAttack: string) => {
        const events: Array<{ message: string; step?: { done: number; total: number } }> = [];
        await evaluate({
          container: scope(), test, examples: 8, batchSize: 8, seed: 1, attacks,
          models: [{ name: 'calibrated', method: 'standard', model: a }, { name: 'teacher', method: 'standard', model: b }],
          diagnostics: { sweep: { attack: sweepAttack, epsilons: [0.5, 1], examples: 8 }, marginAttack: false, reruns: false },
          onProgress: (message, step) => events.push(step ? { message, step } : { message }),
        });
        return events;
      };
      // Per model: a clean pass, two attacks and two sweep points.
      const full = await record('seeded-pgd');
      expect(full.map((e) => e.step)).toEqual(Array.from({ length: 10 }, (_, done) => ({ done, total: 10 })));
      expect(full[0]!.message).toBe('calibrated: clean pass over 8 examples');
      expect(full[5]!.message).toBe('teacher: clean pass over 8 examples');
      expect(full[9]!.message).toMatch(/^teacher: ε sweep seeded-pgd ε = 1 on 8 examples$/);
      // A sweep that cannot run is a note, and the next model still starts at its own step.
      const skipped = await record('no-such-attack');
      expect(skipped.filter((e) => !e.step).map((e) => e.message)).toEqual([expect.stringMatching(/^ε sweep skipped: /), expect.stringMatching(/^ε sweep skipped: /)]);
      expect(skipped.filter((e) => e.step).map((e) => e.step!.done)).toEqual([0, 1, 2, 5, 6, 7]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('flags a saturated-softmax model (distilled at high T, deployed at T = 1) and not its calibrated twin', async () => {
    const saturated = fixtureModel('saturated', 5000);
    const calibrated = fixtureModel('calibrated');
    try {
      const results = await evaluate({
        container: scope(), test, examples: 16, batchSize: 16, seed: 1, attacks,
        models: [{ name: 'saturated', method: 'defensive-distillation', model: saturated }, { name: 'calibrated', method: 'standard', model: calibrated }],
        diagnostics: { sweep: { attack: 'seeded-pgd', epsilons: [0.3, 1], examples: 16 }, marginAttack: false },
      });
      const warnings = (name: string) => results.models[name]!.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.id);
      expect(warnings('saturated')).toContain('vanishing-gradients');
      expect(warnings('saturated')).toContain('no-convergence-at-large-epsilon');
      expect(warnings('calibrated')).toEqual([]);
      // The re-runs ran on the calibrated model (another start, twice the steps) and found nothing new.
      const checks = results.models['calibrated']!.diagnostics;
      expect(checks.find((d) => d.id === 'restart-changes-result')!.status).toBe('passed');
      expect(checks.find((d) => d.id === 'loss-not-converged')!.status).toBe('passed');
    } finally {
      saturated.dispose();
      calibrated.dispose();
    }
  });
});

describe('evaluate (worker pool)', () => {
  beforeAll(() => {
    // Workers run built JS (dist/worker.js); build this package and its references first.
    execFileSync('flock', ['/tmp/build.lock', 'npx', 'tsc', '-b', 'packages/evaluation'], { cwd: ROOT, stdio: 'pipe' });
  }, 300_000);

  it('1 worker and 2 workers give identical numbers for FGSM-like and seeded PGD-like attacks', async () => {
    const model = fixtureModel('pooled');
    try {
      const run = (workers: number): Promise<ResultsFile> =>
        evaluate({
          container: scope(), test, examples: 24, batchSize: 6, seed: 11, attacks, workers, backend: 'cpu', plugins: [FAKE_ATTACKS],
          models: [{ name: 'pooled', method: 'standard', model }],
          diagnostics: false, examplesPerAttack: 24,
        });
      const one = await run(1);
      const two = await run(2);
      expect(one.backend).toMatchObject({ name: 'cpu', workers: 1 });
      expect(two.backend.workers).toBe(2);
      const strip = (r: ResultsFile) => ({ ...r.models['pooled']!, diagnostics: [] });
      expect(strip(two)).toEqual(strip(one));
      // The in-process run agrees too (same cpu kernels, same per-batch seeds).
      const local = await evaluate({ container: scope(), test, examples: 24, batchSize: 6, seed: 11, attacks, models: [{ name: 'pooled', method: 'standard', model }], diagnostics: false, examplesPerAttack: 24 });
      expect(strip(local).attacks).toEqual(strip(one).attacks);
    } finally {
      model.dispose();
    }
  });

  it('benchEvaluationSpeedup times one attack with 1 and 2 workers and checks both agree (no timing asserted)', async () => {
    const model = fixtureModel('bench');
    try {
      const bench = await benchEvaluationSpeedup({
        model, test, examples: 8, batchSize: 2, plugins: [FAKE_ATTACKS], backend: 'cpu',
        attack: { name: 'seeded-pgd', params: { steps: 3 } },
      });
      expect(bench.identical).toBe(true);
      expect(bench.examples).toBe(8);
      expect(bench.speedup).toBeGreaterThan(0);
      expect(bench.backend).toBe('cpu');
    } finally {
      model.dispose();
    }
  });
});
