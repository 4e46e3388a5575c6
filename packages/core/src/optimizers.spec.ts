import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizer, createSchedule, learningRateOf, setLearningRate } from './optimizers.js';
import { optimizeStep } from './step.js';
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

/**
 * One step on f(w) = Σ w² (gradient 2w) from w = [3, −2], against the update PyTorch writes
 * (torch.optim.SGD / AdamW docs), computed by hand here.
 */
describe('weight decay, as PyTorch', () => {
  const start = [3, -2];
  const step = (config: Parameters<typeof createOptimizer>[0]): number[] => {
    const w = tf.tidy(() => tf.variable(tf.tensor1d(start)));
    const optimizer = createOptimizer(config);
    optimizeStep(optimizer, [w], () => ({ loss: tf.sum(tf.square(w)) as tf.Scalar }));
    const out = Array.from(w.dataSync());
    optimizer.dispose();
    w.dispose();
    return out;
  };

  it('sgd: w ← w − lr·(g + λ·w)', () => {
    // lr 0.1, λ 0.5: w = 3 → 3 − 0.1·(6 + 1.5) = 2.25; w = −2 → −2 − 0.1·(−4 − 1) = −1.5
    const w = step({ name: 'sgd', learningRate: 0.1, weightDecay: 0.5 });
    expect(w[0]).toBeCloseTo(2.25, 6);
    expect(w[1]).toBeCloseTo(-1.5, 6);
  });

  it('momentum and nesterov: the decayed gradient enters the buffer (first step v = g + λ·w)', () => {
    // v = 7.5 / −5; momentum: w − lr·v; nesterov: w − lr·(g' + μ·v) with g' = v on the first step
    const momentum = step({ name: 'momentum', learningRate: 0.1, momentum: 0.9, weightDecay: 0.5 });
    expect(momentum[0]).toBeCloseTo(3 - 0.1 * 7.5, 6);
    const nesterov = step({ name: 'nesterov', learningRate: 0.1, momentum: 0.9, weightDecay: 0.5 });
    expect(nesterov[0]).toBeCloseTo(3 - 0.1 * (7.5 + 0.9 * 7.5), 5);
    expect(nesterov[1]).toBeCloseTo(-2 - 0.1 * (-5 + 0.9 * -5), 5);
  });

  it('adamw: decoupled, w ← w·(1 − lr·λ) − lr·m̂/(√v̂ + ε); adam with λ adds it to the gradient instead', () => {
    // First Adam step: m̂ = g, v̂ = g², so the update is lr·sign(g) (up to ε).
    const adamw = step({ name: 'adamw', learningRate: 0.1, weightDecay: 0.5 });
    expect(adamw[0]).toBeCloseTo(3 * (1 - 0.05) - 0.1, 5);
    expect(adamw[1]).toBeCloseTo(-2 * (1 - 0.05) + 0.1, 5);
    // L2 Adam: the gradient 2w + λw keeps its sign, so the first step is lr·sign(g) with no shrink.
    const adam = step({ name: 'adam', learningRate: 0.1, weightDecay: 0.5 });
    expect(adam[0]).toBeCloseTo(3 - 0.1, 5);
  });

  it('without weight decay takes exactly optimizer.minimize’s step', () => {
    const plain = tf.tidy(() => tf.variable(tf.tensor1d(start)));
    const reference = createOptimizer({ name: 'momentum', learningRate: 0.1 });
    reference.minimize(() => tf.sum(tf.square(plain)) as tf.Scalar, false, [plain]);
    expect(step({ name: 'momentum', learningRate: 0.1 })).toEqual(Array.from(plain.dataSync()));
    reference.dispose();
    plain.dispose();
  });

  it('leaves no tensor behind', async () => {
    await expectNoLeaks(() => {
      for (const name of ['sgd', 'momentum', 'adamw', 'adam'] as const) step({ name, learningRate: 0.1, weightDecay: 0.1 });
    }, 'weight decay');
  });
});

describe('learning-rate schedules', () => {
  const at = (schedule: Record<string, unknown>, epoch: number, batch = 0) =>
    createSchedule(schedule, 0.1).rateAt({ epoch, batch, batchesPerEpoch: 10, epochs: 100 });

  it('piecewise: ×γ from each 0-based milestone on (MultiStepLR)', () => {
    const s = { name: 'piecewise', milestones: [74, 89], gamma: 0.1 };
    expect(at(s, 73)).toBe(0.1);
    expect(at(s, 74)).toBeCloseTo(0.01, 12);
    expect(at(s, 89)).toBeCloseTo(0.001, 12);
  });

  it('cosine: base at the start, half way at the middle, the floor at the end', () => {
    expect(at({ name: 'cosine' }, 0)).toBeCloseTo(0.1, 12);
    expect(at({ name: 'cosine' }, 50)).toBeCloseTo(0.05, 12);
    expect(at({ name: 'cosine', minLearningRate: 0.001 }, 100)).toBeCloseTo(0.001, 12);
  });

  it("per 'epoch' the rate holds within an epoch; per 'step' it moves every batch", () => {
    expect(at({ name: 'cosine' }, 50, 9)).toBe(at({ name: 'cosine' }, 50, 0));
    expect(at({ name: 'cosine', interval: 'step' }, 50, 5)).toBeLessThan(at({ name: 'cosine', interval: 'step' }, 50, 0));
  });

  it('warm-up ramps linearly to the base rate', () => {
    expect(at({ warmupEpochs: 4 }, 0)).toBeCloseTo(0.025, 12);
    expect(at({ warmupEpochs: 4 }, 3)).toBeCloseTo(0.1, 12);
    expect(at({ warmupEpochs: 4, interval: 'step' }, 0, 0)).toBeCloseTo(0.1 / 40, 12);
  });

  it('setLearningRate reaches the step of sgd (its scalar) and adam (its number)', () => {
    for (const name of ['sgd', 'adam'] as const) {
      const w = tf.tidy(() => tf.variable(tf.tensor1d([1])));
      const optimizer = createOptimizer({ name, learningRate: 1 });
      setLearningRate(optimizer, 0.01);
      expect(learningRateOf(optimizer)).toBe(0.01);
      optimizer.minimize(() => tf.sum(w) as tf.Scalar, false, [w]);
      expect(w.dataSync()[0]).toBeCloseTo(0.99, 5); // g = 1: both move by lr
      optimizer.dispose();
      w.dispose();
    }
  });
});
