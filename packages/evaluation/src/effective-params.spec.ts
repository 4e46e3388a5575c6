import { describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { Pgd } from '@tempered/attacks';
import { expectNoLeaks } from '../../core/src/testing.js';
import { evaluate, register } from './node.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';
// @ts-expect-error plain ESM fixture without types (it must also load inside worker threads)
import { register as registerFakeAttacks } from '../fixtures/fake-attacks.mjs';

describe('recorded attack parameters', () => {
  it('PGD reports the step size it runs with (2.5·ε/steps for the shorthand 0), not the shorthand', () => {
    const pgd = new Pgd({ epsilon: 0.3, steps: 40 });
    expect(pgd.params()['stepSize']).toBe(0);
    expect(pgd.effectiveParams()).toEqual({ ...pgd.params(), stepSize: (2.5 * 0.3) / 40 });
    expect(new Pgd({ epsilon: 0.3, stepSize: 0.01 }).effectiveParams()['stepSize']).toBe(0.01);
  });

  it('results.json records the effective parameters of an attack and of the ε sweep', async () => {
    const c = container.createChildContainer();
    register(c);
    registerFakeAttacks(c);
    const model = fixtureModel('calibrated');
    try {
      const results = await expectNoLeaks(() =>
        evaluate({
          container: c, test: fixtureDataset(8), examples: 8, batchSize: 8, seed: 1,
          attacks: [{ name: 'seeded-pgd', params: { epsilon: 0.3, steps: 5, stepSize: 0 } }],
          models: [{ name: 'm', method: 'standard', model }],
          diagnostics: { sweep: { attack: 'seeded-pgd', epsilons: [0.5], examples: 8 }, marginAttack: false, reruns: false },
        }),
      );
      const m = results.models['m']!;
      expect(m.attacks['seeded-pgd']!.params).toMatchObject({ epsilon: 0.3, steps: 5, stepSize: (2.5 * 0.3) / 5 });
      expect(m.epsilonSweep!.params).toMatchObject({ stepSize: (2.5 * 0.3) / 5 });
    } finally {
      model.dispose();
    }
  });
});
