import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer } from './optimizers.js';
import { expectNoLeaks } from './testing.js';
import { ConfigError } from './errors.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createOptimizer', () => {
  for (const name of ['sgd', 'momentum', 'adam'] as const) {
    it(`${name}: minimises a quadratic and releases every tensor on dispose`, async () => {
      await expectNoLeaks(() => {
        const w = tf.tidy(() => tf.variable(tf.tensor1d([3, -2])));
        const optimizer = createOptimizer({ name, learningRate: 0.1 });
        const loss = () => tf.sum(tf.square(w)) as tf.Scalar;
        const before = tf.tidy(() => loss().dataSync()[0]!);
        for (let i = 0; i < 20; i++) optimizer.minimize(loss, false, [w]);
        const after = tf.tidy(() => loss().dataSync()[0]!);
        expect(after).toBeLessThan(before * 0.5);
        optimizer.dispose();
        w.dispose();
      }, name);
    });
  }

  it('defaults to Adam 1e-3 and validates its settings', () => {
    const optimizer = createOptimizer();
    expect(optimizer.getClassName()).toBe('Adam');
    expect((optimizer as unknown as { learningRate: number }).learningRate).toBe(1e-3);
    optimizer.dispose();
    expect(() => createOptimizer({ learningRate: 0 })).toThrow(ConfigError);
    expect(() => createOptimizer({ learningRate: 0 }, 'teacher.optimizer')).toThrow('teacher.optimizer.learningRate: expected > 0, got 0');
  });
});
