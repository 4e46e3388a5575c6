import * as tf from '@tensorflow/tfjs';
import { DEFAULT_BOUNDS, LayersModelAdapter, ModelError, modelView, type InputBounds, type Model, type ModelOutputs } from '@tempered/core';

/** A function from a batch of inputs to logits [batch, numClasses]. */
export type LogitsFunction = (x: tf.Tensor) => tf.Tensor2D;

/** Anything the plain attack functions accept as a model. */
export type ModelLike = Model | tf.LayersModel | LogitsFunction;

export interface ToModelOptions {
  /** Input bounds; default [0, 1] (a core Model keeps its own unless this is given). */
  readonly bounds?: InputBounds;
  readonly name?: string;
  /** Required for a logits function (inferred by the plain attack functions from a probe). */
  readonly numClasses?: number;
  /** Input shape without the batch dimension; required for a logits function. */
  readonly inputShape?: readonly number[];
}

function isCoreModel(model: ModelLike): model is Model {
  return typeof model === 'object' && typeof (model as Model).logits === 'function' && typeof (model as Model).forward === 'function';
}

/**
 * Adapts a core `Model`, a bare `tf.LayersModel` (single logits output) or a logits function
 * to a core `Model`. Bounds default to [0, 1]. A function model has no weights.
 *
 * @example
 * const model = toModel((x) => tf.matMul(tf.reshape(x, [-1, 4]), w) as tf.Tensor2D, { numClasses: 3, inputShape: [4] });
 */
export function toModel(model: ModelLike, options: ToModelOptions = {}): Model {
  if (isCoreModel(model)) {
    if (!options.bounds) return model;
    return modelView(model, { bounds: options.bounds });
  }
  if (model instanceof tf.LayersModel) {
    return new LayersModelAdapter(model, { bounds: options.bounds ?? DEFAULT_BOUNDS, name: options.name });
  }
  if (typeof model === 'function') {
    const { numClasses, inputShape } = options;
    if (numClasses === undefined || !Number.isInteger(numClasses) || numClasses < 2) {
      throw new ModelError(`toModel: a logits function needs numClasses (an integer ≥ 2), got ${String(numClasses)}`);
    }
    if (!inputShape) throw new ModelError('toModel: a logits function needs inputShape (without the batch dimension)');
    return functionModel(model, { name: options.name ?? 'logits-function', numClasses, inputShape, bounds: options.bounds ?? DEFAULT_BOUNDS });
  }
  throw new ModelError('toModel: expected a core Model, a tf.LayersModel or a function (x) => logits');
}

function functionModel(
  fn: LogitsFunction,
  info: { name: string; numClasses: number; inputShape: readonly number[]; bounds: InputBounds },
): Model {
  const logits = (x: tf.Tensor): tf.Tensor2D => fn(x);
  return {
    ...info,
    hasFeatures: false,
    logits,
    forward: (x): ModelOutputs => ({ logits: logits(x) }),
    trainableVariables: () => [],
    getWeights: () => [],
    setWeights: (weights) => {
      if (weights.length > 0) throw new ModelError(`model "${info.name}": a logits function has no weights to set`);
    },
    dispose: () => {},
  };
}

/**
 * {@link toModel} for the plain attack functions: a logits function's class count and input
 * shape are read from one forward pass on the first example of `x`.
 */
export function resolveModel(model: ModelLike, x: tf.Tensor, bounds?: InputBounds): Model {
  if (typeof model !== 'function') return toModel(model, { bounds });
  const numClasses = tf.tidy(() => {
    const logits = model(tf.slice(x, 0, 1));
    if (logits.rank !== 2) throw new ModelError(`logits function: expected logits of shape [batch, classes], got [${logits.shape.join(', ')}]`);
    return logits.shape[1];
  });
  return toModel(model, { bounds, numClasses, inputShape: x.shape.slice(1) });
}
