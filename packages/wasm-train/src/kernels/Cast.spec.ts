import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeak, useBackend } from '../spec-support/helpers.js';

describe('Cast on wasm', () => {
  it('shares storage for a same-dtype cast, which survives disposal of the source', async () => {
    await useBackend('wasm');
    await expectNoLeak(async () => {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const source = tf.tensor1d([1, 0, 3], dtype);
        const same = tf.cast(source, dtype);
        source.dispose();
        expect(same.dtype).toBe(dtype);
        expect(Array.from(await same.data())).toEqual(dtype === 'bool' ? [1, 0, 1] : [1, 0, 3]);
        same.dispose();
      }
    });
  });

  it('converts between dtypes as the cpu backend does', async () => {
    await useBackend('wasm');
    await expectNoLeak(async () => {
      const x = tf.tensor1d([1.75, -2.5, 0, 0.5, Number.NaN, 256]);
      const asInt = tf.cast(x, 'int32');
      const asBool = tf.cast(x, 'bool');
      const back = tf.cast(asInt, 'float32');
      expect(asInt.dtype).toBe('int32');
      expect(Array.from(await asInt.data())).toEqual([1, -2, 0, 0, 0, 256]);
      // x != 0, as on cpu; stock wasm wrapped through a byte (-2.5 → 254, 0.5 → 0, 256 → 0).
      expect(Array.from(await asBool.data())).toEqual([1, 1, 0, 1, 1, 1]);
      expect(Array.from(await back.data())).toEqual(Array.from(await asInt.data()));
      tf.dispose([x, asInt, asBool, back]);
    });
  });

  it('gives ReLU its usual gradient', async () => {
    await useBackend('wasm');
    const x = tf.tensor1d([-1, 0.5, 2]);
    const grad = tf.grad((t: tf.Tensor) => tf.relu(t).mul(tf.tensor1d([3, 4, 5])).sum())(x);
    expect(Array.from(await grad.data())).toEqual([0, 4, 5]);
    tf.dispose([x, grad]);
  });
});
