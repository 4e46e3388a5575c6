import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { expectNoLeak, useBackend } from '../spec-support/helpers.js';

describe('Identity on wasm', () => {
  it('clones share storage, survive disposal of the source, and free it with the last reference', async () => {
    await useBackend('wasm');
    await expectNoLeak(async () => {
      const source = tf.tensor2d([[1, -2], [3, 4.5]]);
      const copy = tf.clone(source);
      const reshaped = copy.reshape([4]);
      source.dispose();
      expect(Array.from(await copy.data())).toEqual([1, -2, 3, 4.5]);
      copy.dispose();
      expect(Array.from(await reshaped.data())).toEqual([1, -2, 3, 4.5]);
      reshaped.dispose();
    });
  });

  it('has an identity gradient', async () => {
    await useBackend('wasm');
    const x = tf.tensor1d([1, 2, 3]);
    const grad = tf.grad((t: tf.Tensor) => tf.clone(t).square().sum())(x);
    expect(Array.from(await grad.data())).toEqual([2, 4, 6]);
    tf.dispose([x, grad]);
  });
});
