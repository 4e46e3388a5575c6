import * as tf from '@tensorflow/tfjs';
import { ModelError } from './errors.js';
import type { ForwardOptions, InputBounds, Model, ModelOutputs, Student, Teacher } from './types.js';

/** Name of the layer whose output is a model's penultimate features, by convention. */
export const FEATURES_LAYER = 'features';

export const DEFAULT_BOUNDS: InputBounds = { min: 0, max: 1 };

export interface LayersModelAdapterOptions {
  readonly name?: string;
  readonly bounds?: InputBounds;
  /** Layer whose output is the penultimate features; default the layer named "features" if present. */
  readonly featuresLayer?: string;
}

/**
 * A {@link Model} over a tfjs-layers model whose (single) output is logits. When a features
 * layer exists, a second graph shares its weights and returns logits and features in one pass.
 */
export class LayersModelAdapter implements Model {
  readonly name: string;
  readonly numClasses: number;
  readonly inputShape: readonly number[];
  readonly bounds: InputBounds;
  readonly hasFeatures: boolean;
  private readonly graph: tf.LayersModel;

  constructor(
    readonly layersModel: tf.LayersModel,
    options: LayersModelAdapterOptions = {},
  ) {
    if (layersModel.outputs.length !== 1) {
      throw new ModelError(`model "${layersModel.name}": expected one output (logits), got ${layersModel.outputs.length}`);
    }
    const outShape = layersModel.outputs[0]!.shape;
    if (outShape.length !== 2 || outShape[1] == null) {
      throw new ModelError(`model "${layersModel.name}": expected logits of shape [batch, classes], got [${outShape.join(', ')}]`);
    }
    this.name = options.name ?? layersModel.name;
    this.numClasses = outShape[1];
    this.inputShape = layersModel.inputs[0]!.shape.slice(1).map((d) => {
      if (d == null) throw new ModelError(`model "${this.name}": input shape must be fully defined`);
      return d;
    });
    this.bounds = options.bounds ?? DEFAULT_BOUNDS;
    const featuresName = options.featuresLayer ?? FEATURES_LAYER;
    const featuresLayer = layersModel.layers.find((l) => l.name === featuresName);
    if (options.featuresLayer && !featuresLayer) {
      throw new ModelError(`model "${this.name}": no layer named "${options.featuresLayer}" for features`);
    }
    this.hasFeatures = featuresLayer !== undefined;
    this.graph = featuresLayer
      ? tf.model({
          inputs: layersModel.inputs,
          outputs: [layersModel.outputs[0]!, featuresLayer.output as tf.SymbolicTensor],
        })
      : layersModel;
  }

  toLayersModel(): tf.LayersModel {
    return this.layersModel;
  }

  logits(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor2D {
    // apply, not predict: predict splits into batches of 32 and is slower under gradients.
    return this.layersModel.apply(x, { training: options.training ?? false }) as tf.Tensor2D;
  }

  forward(x: tf.Tensor, options: ForwardOptions = {}): ModelOutputs {
    if (!this.hasFeatures) return { logits: this.logits(x, options) };
    return tf.tidy(() => {
      const [logits, features] = this.graph.apply(x, { training: options.training ?? false }) as tf.Tensor[];
      const flat = features!.rank === 2 ? features! : tf.reshape(features!, [features!.shape[0]!, -1]);
      return { logits: logits as tf.Tensor2D, features: flat as tf.Tensor2D };
    });
  }

  trainableVariables(): tf.Variable[] {
    return this.layersModel.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  getWeights(): tf.Tensor[] {
    return this.layersModel.getWeights().map((w) => w.clone());
  }

  setWeights(weights: tf.Tensor[]): void {
    this.layersModel.setWeights(weights);
  }

  dispose(): void {
    this.layersModel.dispose();
  }
}

/** A student over a tfjs-layers model. */
export class LayersStudent extends LayersModelAdapter implements Student {
  readonly role = 'student' as const;
}

/** A frozen teacher: inference mode always, no trainable variables. */
export class LayersTeacher extends LayersModelAdapter implements Teacher {
  readonly role = 'teacher' as const;
  override logits(x: tf.Tensor): tf.Tensor2D {
    return super.logits(x, { training: false });
  }
  override forward(x: tf.Tensor): ModelOutputs {
    return super.forward(x, { training: false });
  }
  override trainableVariables(): tf.Variable[] {
    return [];
  }
}

/** Wraps any model as a frozen teacher sharing its weights. */
export function asTeacher(model: Model): Teacher {
  if ((model as Partial<Teacher>).role === 'teacher') return model as Teacher;
  if (model instanceof LayersModelAdapter) {
    return new LayersTeacher(model.layersModel, { name: model.name, bounds: model.bounds });
  }
  return modelView(model, {
    role: 'teacher',
    logits: (x) => model.logits(x, { training: false }),
    forward: (x) => model.forward(x, { training: false }),
    trainableVariables: () => [],
  }) as Teacher;
}

/** What a {@link modelView} may change of the model it views; the rest is the model's own. */
export type ModelViewChanges = Partial<Pick<Model, 'bounds' | 'logits' | 'forward' | 'trainableVariables' | 'dispose'>> & {
  readonly role?: 'teacher' | 'student';
};

/**
 * A view of `model` that shares its weights and changes only what `changes` gives: other input
 * bounds, another forward mode, no trainable variables, a no-op dispose. The one way to re-bound
 * or re-mode a model: the view keeps every capability of the model, `toLayersModel` included, so a
 * model passed through views can still be saved (`layersModelOf`) or sent to a worker process.
 * What is saved is the viewed model's network, so `logits`/`forward` changes may change only the
 * mode (`training`), never the function; a model that computes something else (e.g. scaled
 * logits) is a model of its own, not a view.
 *
 * @example
 * ```ts
 * const wide = modelView(student, { bounds: { min: -1, max: 1 } });
 * wide.toLayersModel?.() === student.toLayersModel?.(); // true: the same tfjs model
 * ```
 */
export function modelView(model: Model, changes: ModelViewChanges = {}): Model {
  const view: Model = {
    name: model.name,
    numClasses: model.numClasses,
    inputShape: model.inputShape,
    bounds: model.bounds,
    hasFeatures: model.hasFeatures,
    logits: model.logits.bind(model),
    forward: model.forward.bind(model),
    trainableVariables: model.trainableVariables.bind(model),
    getWeights: model.getWeights.bind(model),
    setWeights: model.setWeights.bind(model),
    dispose: model.dispose.bind(model),
    ...(typeof model.toLayersModel === 'function' ? { toLayersModel: model.toLayersModel.bind(model) } : {}),
  };
  return Object.assign(view, changes);
}

/** Throws a {@link ModelError} when teacher and student disagree on classes or input shape. */
export function assertCompatible(teacher: Model, student: Model): void {
  if (teacher.numClasses !== student.numClasses) {
    throw new ModelError(
      `teacher "${teacher.name}" has ${teacher.numClasses} classes but student "${student.name}" has ${student.numClasses}`,
    );
  }
  if (teacher.inputShape.join('x') !== student.inputShape.join('x')) {
    throw new ModelError(
      `teacher "${teacher.name}" takes input [${teacher.inputShape.join(', ')}] but student "${student.name}" takes [${student.inputShape.join(', ')}]`,
    );
  }
}

/**
 * The LayersModel behind `model` (its declared `toLayersModel()` capability), e.g. to save a
 * method's result; a ModelError naming the model and `purpose` when it has none.
 */
export function layersModelOf(model: Model, purpose: string): tf.LayersModel {
  if (typeof model.toLayersModel !== 'function') {
    throw new ModelError(`model "${model.name}": cannot be ${purpose}: it is not a tfjs LayersModel (no toLayersModel())`);
  }
  return model.toLayersModel();
}
