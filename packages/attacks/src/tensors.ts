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
