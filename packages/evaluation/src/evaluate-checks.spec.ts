import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { expectNoLeaks } from '../../core/src/testing.js';
import { isDegenerate, renderMarkdown } from '@tempered/reports';
import { evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel, stopGradientModel } from './spec-fixtures.js';
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

describe('evaluate: threat models, per-example breakers and the checks on real runs', () => {
  it('a stop-gradient model: the ensemble records which component broke what, black-box and zero-gradient checks fire; a model at chance is degenerate', async () => {
    const baseline = fixtureModel('baseline');
    const shielded = fixtureModel('shielded');
    const stuck = fixtureModel('stuck', 0); // all-zero logits: always class 0, chance accuracy
    const masked = stopGradientModel(shielded, 'masked');
    const steps: Array<{ done: number; total: number }> = [];
    try {
      const results = await expectNoLeaks(() =>
        evaluate({
          container: scope(), test: fixtureDataset(24), examples: 18, batchSize: 9, seed: 5,
          attacks: [{ name: 'seeded-pgd', params: { epsilon: 0.3, steps: 5, stepSize: 0.1 } }, { name: 'fake-ensemble', params: { epsilon: 0.3 } }],
          models: [
            { name: 'baseline', method: 'standard', model: baseline, transferCandidate: true },
            { name: 'masked', method: 'stop-gradient', model: masked },
            { name: 'stuck', method: 'standard', model: stuck },
          ],
          diagnostics: { sweep: false, marginAttack: false, reruns: { examples: 18 } },
          onProgress: (_message, step) => step && steps.push(step),
        }),
      );
      // Per model: clean pass, 2 attacks, a restart and a more-steps re-run; a transfer re-run for the two non-baseline models.
      expect(steps).toEqual(Array.from({ length: 17 }, (_, done) => ({ done, total: 17 })));
      const m = results.models['masked']!;
      const tm = m.threatModels['linf:0.3']!;
      expect(m.attacks['fake-ensemble']!.ran).toEqual(['sign-ce', 'square']);
      expect(tm.ran).toEqual(['seeded-pgd', 'fake-ensemble/sign-ce', 'fake-ensemble/square']);
      // No gradient: the gradient-sign component does not move; PGD gets only what its random start hits;
      // the black-box component breaks more.
      expect(tm.broken!['fake-ensemble/sign-ce'] ?? []).toEqual([]);
      const bySquare = tm.broken!['fake-ensemble/square']!;
      expect(bySquare.length).toBeGreaterThan((tm.broken!['seeded-pgd'] ?? []).length);
      // The first breaker in run order: PGD ran first, so examples both broke are PGD's.
      const squareFirst = bySquare.filter((e) => !(tm.broken!['seeded-pgd'] ?? []).includes(e));
      expect(tm.breakers['fake-ensemble/square']).toBe(squareFirst.length);
      expect(tm.brokenBy!.flatMap((b, i) => (b === 'fake-ensemble/square' ? [i] : []))).toEqual(squareFirst);
      // The same weights without the shield: the worst case is identical, a masking defence adds nothing.
      expect(tm.robustAccuracy).toBeCloseTo(results.models['baseline']!.threatModels['linf:0.3']!.robustAccuracy!, 12);
      const status = (model: string, id: string) => results.models[model]!.diagnostics.find((d) => d.id === id)?.status;
      expect(status('masked', 'black-box-beats-white-box')).toBe('flagged');
      expect(status('masked', 'vanishing-gradients')).toBe('flagged');
      expect(m.lossGradientHistogram.zeros).toBe(m.lossGradientHistogram.count);
      // PGD crafted on the baseline transfers to the masked copy and beats the white-box attacks there.
      expect(tm.reruns!['transfer']!.newlyBroken).toBeGreaterThan(0);
      expect(status('masked', 'transfer-beats-white-box')).toBe('flagged');
      expect(status('baseline', 'transfer-beats-white-box')).toBe('not-run');
      expect(status('baseline', 'black-box-beats-white-box')).not.toBe('flagged');
      expect(status('baseline', 'vanishing-gradients')).toBe('passed');
      // Per class: three classes, the worst one is the minimum.
      expect(tm.perClass.map((c) => c.label)).toEqual([0, 1, 2]);
      expect(tm.perClass.reduce((n, c) => n + c.examples, 0)).toBe(18);
      expect(tm.worstClass!.robustAccuracy).toBe(Math.min(...tm.perClass.map((c) => c.robustAccuracy!)));
      // The model that never learned gets no masking verdict.
      expect(isDegenerate(results.models['stuck']!.diagnostics)).toBe(true);
      expect(results.models['stuck']!.diagnostics.filter((d) => d.status === 'flagged').map((d) => d.id)).toEqual(['degenerate-model']);
      const md = renderMarkdown(results);
      expect(md).toMatch(/\| masked ⚠ \| stop-gradient \| — \| \d+\.\d \[\d+\.\d, \d+\.\d\] \| \d+\.\d \[/);
      expect(md).toContain('stuck (degenerate)');
      expect(md).toContain('## Threat model L∞ ε = 0.3');
    } finally {
      baseline.dispose();
      shielded.dispose();
      stuck.dispose();
    }
  });
});

describe('evaluate: ensemble breakers through the worker pool', () => {
  beforeAll(() => {
    execFileSync('flock', ['/tmp/build.lock', 'npx', 'tsc', '-b', 'packages/evaluation'], { cwd: ROOT, stdio: 'pipe' });
  }, 300_000);

  it('brokenBy and ran cross the worker boundary: 1 worker gives the in-process threat models', async () => {
    const model = fixtureModel('pooled');
    try {
      const run = (workers: number) =>
        evaluate({
          container: scope(), test: fixtureDataset(12), examples: 12, batchSize: 6, seed: 3, workers, backend: 'cpu', plugins: [FAKE_ATTACKS],
          attacks: [{ name: 'fake-ensemble', params: { epsilon: 0.2 } }],
          models: [{ name: 'pooled', method: 'standard', model }],
          diagnostics: false,
        });
      const local = (await run(0)).models['pooled']!;
      const pooled = (await run(1)).models['pooled']!;
      expect(pooled.attacks['fake-ensemble']!.ran).toEqual(local.attacks['fake-ensemble']!.ran);
      expect(pooled.threatModels).toEqual(local.threatModels);
      expect(local.threatModels['linf:0.2']!.ran[0]).toBe('fake-ensemble/sign-ce');
    } finally {
      model.dispose();
    }
  });
});
