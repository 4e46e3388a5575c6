import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { AutoAttack, autoattack } from './autoattack.js';
import { attackRecords } from './records.js';
import { linearModel, linearMulticlass, predict, randomMlp, uniformInputs, zeroGradient } from './spec-fixtures.js';

const SHAPE = [8, 8, 1];
// A cheap custom AutoAttack: the standard sequence with smaller budgets.
const CHEAP = { version: 'custom', steps: 20, targetClasses: 3, queries: 400 } as const;

describe('AutoAttack', () => {
  it('runs each component only on the examples still robust and records which one broke each example', async () => {
    await expectNoLeaks(async () => {
      const batch = 16;
      const { model, xs, labels, linf } = linearMulticlass(11, 4, 64, batch, SHAPE);
      const masked = zeroGradient(model);
      const x = tf.tensor(xs, [batch, ...SHAPE]);
      // Two examples get a wrong label: misclassified on x, they are never attacked.
      const wrong = labels.map((l, i) => (i < 2 ? (l + 1) % 4 : l));
      const y = tf.tensor1d(wrong, 'int32');
      const epsilon = Math.min(Math.max(...linf) * 1.1, 0.25);
      const { adversarial, iterations, brokenBy, ran } = await new AutoAttack({ ...CHEAP, queries: 1000, epsilon, seed: 3 }).run(masked, x, y);
      const records = attackRecords(masked, x, adversarial, y);
      const clean = tf.tidy(() => tf.reshape(tf.sub(adversarial, x), [batch, -1]).abs().max(1).arraySync() as number[]);
      expect(ran).toEqual(['apgd-ce', 'apgd-t', 'fab-t', 'square']);
      expect(brokenBy).toHaveLength(batch);
      records.forEach((r, i) => {
        expect(r.linf).toBeLessThanOrEqual(epsilon + 1e-6);
        if (i < 2) {
          // Misclassified on x: not attacked, returned as is, no component named.
          expect(brokenBy[i]).toBeNull();
          expect(iterations[i]).toBe(0);
          expect(clean[i]).toBe(0);
          return;
        }
        // The gradient is zeroed (FAB's linearised boundary has a zero normal, so it never moves),
        // so what breaks the far examples is Square; each component's cost is charged only while
        // the example is robust.
        expect(brokenBy[i] !== null, `example ${i}`).toBe(r.success);
        if (linf[i]! <= epsilon / 1.05 && linf[i]! > epsilon / 2) expect(brokenBy[i], `example ${i}`).toBe('square');
        if (brokenBy[i] === 'apgd-ce') expect(iterations[i]).toBeLessThanOrEqual(20);
        expect(brokenBy[i]).not.toBe('fab-t');
        if (brokenBy[i] === 'square') {
          expect(iterations[i]).toBeGreaterThan(20 + 3 * 20 + 3 * 20);
          expect(iterations[i]).toBeLessThanOrEqual(20 + 3 * 20 + 3 * 20 + 1000);
        }
        if (brokenBy[i] === null) {
          expect(iterations[i]).toBe(20 + 3 * 20 + 3 * 20 + 1000);
          expect(clean[i]).toBe(0); // a robust example is returned unchanged
        }
      });
      expect(brokenBy.filter((b) => b === 'square').length).toBeGreaterThan(3);
      tf.dispose([x, y, adversarial]);
    });
  });

  it('stops once no example is robust: with the gradient, APGD-CE alone breaks every example a linear model lets it', async () => {
    await expectNoLeaks(async () => {
      const batch = 12;
      const { model, xs, labels, linf } = linearMulticlass(4, 5, 16, batch);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      const epsilon = Math.max(...linf) * 1.1;
      const { adversarial, brokenBy, ran } = await autoattack(model, x, y, { ...CHEAP, epsilon, bounds: { min: -10, max: 10 } });
      expect(ran).toEqual(['apgd-ce']);
      expect(brokenBy).toEqual(new Array(batch).fill('apgd-ce'));
      expect(attackRecords(model, x, adversarial, y).every((r) => r.success)).toBe(true);
      tf.dispose([x, y, adversarial]);
    });
  });

  it('fixes the standard version (APGD-CE, APGD-T, FAB-T, Square): changing a budget throws unless version is custom', () => {
    expect(() => new AutoAttack({ queries: 100 })).toThrow(/autoattack\.queries: the standard version fixes 5000, got 100; set version: custom/);
    expect(() => new AutoAttack({ steps: 10 })).toThrow(ConfigError);
    expect(new AutoAttack({ version: 'custom', queries: 100 }).params()).toMatchObject({ queries: 100 });
    expect(new AutoAttack().params()['attacks']).toBe('apgd-ce,apgd-t,fab-t,square');
    expect(() => new AutoAttack({ attacks: 'apgd-ce,apgd-t,square' })).toThrow(/autoattack\.attacks: the standard version fixes/);
    expect(() => new AutoAttack({ version: 'custom', attacks: 'apgd-ce,fab' })).toThrow(/unknown component "fab"; expected apgd-ce, apgd-dlr, apgd-t, fab-t, square/);
    expect(new AutoAttack().supportedModes).toEqual(['untargeted']);
  });

  it('FAB-T breaks what APGD-CE cannot where the softmax saturates (3 classes, so no APGD-T): exactly the examples within ε', async () => {
    await expectNoLeaks(async () => {
      const batch = 16;
      const { xs, labels, linf } = linearMulticlass(21, 3, 16, batch);
      // The same linear problem with logits × 10⁴: the cross-entropy's gradient underflows to 0
      // in float32, while FAB's logit differences keep their exact gradient.
      const rng = new Rng(21);
      const weights = Array.from({ length: 3 }, () => Array.from(rng.normalArray(16)));
      const bias = Array.from({ length: 3 }, () => rng.normal() * 0.2);
      const saturated = linearModel(weights, bias, 1e4);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      expect(Array.from(predict(saturated, x))).toEqual(labels);
      const epsilon = [...linf].sort((a, b) => a - b)[batch / 2]!;
      const { brokenBy, ran, adversarial } = await new AutoAttack({ ...CHEAP, epsilon }).run(saturated, x, y);
      expect(ran).toEqual(['apgd-ce', 'fab-t', 'square']);
      linf.forEach((d, i) => {
        if (d > epsilon * (1 + 1e-5)) expect(brokenBy[i], `example ${i}`).toBeNull();
        if (d < epsilon / 1.05) expect(['apgd-ce', 'fab-t'], `example ${i}`).toContain(brokenBy[i]);
      });
      expect(brokenBy.filter((b) => b === 'fab-t').length).toBeGreaterThanOrEqual(3);
      tf.dispose([x, y, adversarial]);
    });
  });

  it('skips APGD-T below 4 classes, where the targeted DLR loss is undefined', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(2, 8, 6, 3);
      const x = uniformInputs(3, 6, 8);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const { adversarial, ran } = await autoattack(model, x, y, { ...CHEAP, epsilon: 0.01 });
      expect(ran).toEqual(['apgd-ce', 'fab-t', 'square']);
      tf.dispose([x, y, adversarial]);
    });
  });

  it('stays within the ε-ball of its norm and the bounds, and names a component exactly for the adversarial examples', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 1e6 }), fc.constantFrom('linf' as const, 'l2' as const), fc.double({ min: 0.01, max: 1, noNaN: true }), async (seed, norm, epsilon) => {
          const model = randomMlp(seed, 8, 6, 4);
          const x = uniformInputs(seed + 1, 8, 8);
          const y = tf.tensor1d(predict(model, x), 'int32');
          const { adversarial, brokenBy, ran } = await autoattack(model, x, y, { version: 'custom', steps: 5, targetClasses: 2, queries: 30, norm, epsilon, seed });
          const records = attackRecords(model, x, adversarial, y);
          const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
          records.forEach((r, i) => {
            expect(norm === 'linf' ? r.linf : r.l2).toBeLessThanOrEqual(epsilon * (1 + 1e-5) + 1e-6);
            expect(brokenBy![i] !== null).toBe(r.success);
            if (brokenBy![i] !== null) expect(ran).toContain(brokenBy![i]);
          });
          expect(ran![0]).toBe('apgd-ce');
          tf.dispose([x, y, adversarial]);
        }),
        { numRuns: 10 },
      ),
    );
  });
});
