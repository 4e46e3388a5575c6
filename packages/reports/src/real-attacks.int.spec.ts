import { describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { register as registerAttacks } from '@tempered/attacks';
import { expectNoLeaks } from '../../core/src/testing.js';
import { evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';

describe('evaluate with the real @tempered/attacks', () => {
  it('runs FGSM, PGD (+ its margin twin), targeted JSMA on every other class, and reports ρ_adv', async () => {
    const c = container.createChildContainer();
    register(c);
    registerAttacks(c);
    const model = fixtureModel('real');
    try {
      const results = await expectNoLeaks(() =>
        evaluate({
          container: c, test: fixtureDataset(8), examples: 6, batchSize: 6, seed: 2,
          attacks: [
            { name: 'fgsm', params: { epsilon: 0.3 } },
            { name: 'pgd', params: { epsilon: 0.3, steps: 5, stepSize: 0.1 } },
            { name: 'jsma', mode: 'targeted' },
          ],
          models: [{ name: 'real', method: 'standard', model }],
          diagnostics: { sweep: { epsilons: [0.3, 1], examples: 6 } },
        }),
      );
      const m = results.models['real']!;
      expect(Object.keys(m.attacks)).toEqual(['fgsm', 'pgd', 'jsma', 'pgd-margin']);
      expect(m.attacks['pgd-margin']!.params['loss']).toBe('margin');
      expect(m.attacks['jsma']!.pairs).toBe(6 * 2);
      expect(m.attacks['jsma']!.rhoAdv).not.toBeUndefined();
      expect(m.attacks['pgd']!.robustAccuracy!).toBeLessThanOrEqual(m.attacks['fgsm']!.robustAccuracy! + 0.2);
      expect(m.epsilonSweep!.points.at(-1)!.robustAccuracy).toBe(0);
      expect(m.diagnostics.filter((d) => d.severity === 'warning')).toEqual([]);
    } finally {
      model.dispose();
    }
  });
});
