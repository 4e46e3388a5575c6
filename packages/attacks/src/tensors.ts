import * as tf from '@tensorflow/tfjs';

/** Reshapes a per-example vector [batch] to broadcast against x [batch, ...]. */
export function perExample(values: tf.Tensor1D, like: tf.Tensor): tf.Tensor {
  return tf.reshape(values, [values.shape[0], ...like.shape.slice(1).map(() => 1)]);
}

/** Row-wise select: rows of `a` where `condition` [batch] holds, else rows of `b`. */
export function selectRows(condition: tf.Tensor1D, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.where(tf.broadcastTo(perExample(condition, a), a.shape), a, b));
}

/** Per-example L2 norm of x [batch, ...] → [batch]. */
export function l2Norms(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.reshape(x, [x.shape[0]!, -1])), 1)) as tf.Tensor1D);
}

/** Number of features per example. */
export function featureCount(x: tf.Tensor): number {
  return x.shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * `target` with row positions[k] replaced by row k of `rows` wherever take[k] holds (rows: one per
 * position, e.g. an attack's output on a gathered subset). Caller disposes the result.
 */
export function scatterRows(target: tf.Tensor, positions: readonly number[], rows: tf.Tensor, take: readonly boolean[]): tf.Tensor {
  return tf.tidy(() => {
    if (!take.some(Boolean)) return target.clone();
    const index = tf.tensor2d(positions as number[], [positions.length, 1], 'int32');
    const mask = tf.cast(tf.scatterND(index, tf.tensor1d(take.map(Number), 'int32'), [target.shape[0]!]), 'bool') as tf.Tensor1D;
    return selectRows(mask, tf.scatterND(index, rows, target.shape), target);
  });
}
