import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { attackRecords, L0_THRESHOLD } from '@tempered/attacks';
import { expectNoLeaks } from '../../core/src/testing.js';
import { attackRows } from './index.js';
import { fixtureDataset, fixtureModel } from './spec-fixtures.js';

describe('one per-example record from the attack to the threat model', () => {
  it("the engine's rows of an attack batch are the attack package's records, example positions and iterations added", async () => {
    const model = fixtureModel('records');
    const { x, labels } = fixtureDataset(8).batch([0, 1, 2, 3, 4, 5, 6, 7]);
    // A perturbation that breaks some examples: push every pixel towards the next class's template.
    const xAdv = tf.tidy(() => tf.clipByValue(tf.add(x, tf.mul(tf.sign(tf.sub(tf.randomUniform(x.shape, 0, 1, 'float32', 4), 0.5)), 0.4)), 0, 1));
    try {
      await expectNoLeaks(async () => {
        const fromAttack = attackRecords(model, x, xAdv, labels);
        const logits = tf.tidy(() => model.logits(x, { training: false }));
        const adversarialLogits = tf.tidy(() => model.logits(xAdv, { training: false }));
        const indices = Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17]);
        const iterations = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
        const rows = attackRows({ modelName: 'records', x, labels, logits, indices, attack: { name: 'a', mode: 'untargeted', adversarial: xAdv, adversarialLogits, iterations } });
        tf.dispose([logits, adversarialLogits]);
        expect(rows).toEqual(fromAttack.map((r, i) => ({ ...r, example: indices[i], iterations: iterations[i] })));
        // Both sides of "broke the example": some rows do, some are robust, and a misclassified clean row is never robust.
        expect(rows.some((r) => r.attackable && r.success)).toBe(true);
        for (const r of rows) expect(r.robust).toBe(r.attackable && !r.success);
      });
    } finally {
      tf.dispose([x, labels, xAdv]);
      model.dispose();
    }
  });

  it('counts a feature towards L0 only when it moved by more than L0_THRESHOLD', () => {
    const model = fixtureModel('l0');
    const x = tf.fill([1, 4, 4, 1], 0.5);
    const moved = tf.tensor4d(Float32Array.from({ length: 16 }, (_, j) => 0.5 + (j < 3 ? 0.25 : j < 6 ? L0_THRESHOLD / 4 : 0)), [1, 4, 4, 1]);
    try {
      const [record] = attackRecords(model, x, moved, [0]);
      expect(record!.l0).toBe(3);
      expect(record!.linf).toBeCloseTo(0.25, 6);
      expect(record!.featureCount).toBe(16);
    } finally {
      tf.dispose([x, moved]);
      model.dispose();
    }
  });
});
