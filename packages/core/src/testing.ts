import * as tf from '@tensorflow/tfjs';

/**
 * Test helpers (imported from `@tempered/core/testing`). Every spec that touches tensors uses
 * {@link expectNoLeaks}: `tf.memory().numTensors` must return to its baseline.
 */

/** Runs `fn` (sync or async) and throws if it leaves tensors behind. Returns fn's result. */
export async function expectNoLeaks<T>(fn: () => T | Promise<T>, label = 'operation'): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) {
    throw new Error(`${label} leaked ${after - before} tensor(s): numTensors ${before} → ${after}`);
  }
  return result;
}

/** Switches to a backend for a spec and returns a function that restores the previous one. */
export async function useBackend(name: string): Promise<() => Promise<void>> {
  const previous = tf.getBackend();
  await tf.setBackend(name);
  await tf.ready();
  return async () => {
    if (previous) {
      await tf.setBackend(previous);
      await tf.ready();
    }
  };
}
