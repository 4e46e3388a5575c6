import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from './testing.js';

describe('expectNoLeaks', () => {
  it('passes when tensors are disposed and fails naming the count when they are not', async () => {
    await expect(expectNoLeaks(() => tf.tidy(() => tf.add(tf.ones([2]), 1).sum().dataSync()))).resolves.toBeDefined();
    let leaked: tf.Tensor[] = [];
    await expect(
      expectNoLeaks(() => {
        leaked = [tf.ones([2]), tf.zeros([3])];
      }, 'sloppy step'),
    ).rejects.toThrow(/sloppy step leaked 2 tensor\(s\)/);
    tf.dispose(leaked);
  });
});
