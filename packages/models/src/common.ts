import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  LayersStudent,
  Rng,
  deriveSeed,
  validateParams,
  type ForwardOptions,
  type ModelArchitecture,
  type ModelBuildOptions,
  type ModelOutputs,
  type ParamSpecs,
  type ParamValues,
  type Student,
} from '@tempered/core';

/** What every plain builder function takes: the core build options (name optional). */
export interface ArchitectureOptions {
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Seed for weight initialisation (and dropout masks); default 0. */
  readonly seed?: number;
  /** Model name; default the architecture's name. */
  readonly name?: string;
}

/**
 * Seeded initialisers keyed by layer name: every layer's seed is `deriveSeed(seed, layerName)`,
 * so the same seed gives bit-identical weights and adding a layer does not shift the others.
 */
export class LayerInit {
  constructor(readonly seed: number) {}
  /** He-normal (truncated), for layers followed by ReLU / ReLU6 (He et al., 2015). */
  he(layer: string): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.heNormal({ seed: deriveSeed(this.seed, layer, 'kernel') });
  }
  /** Glorot-uniform, for the linear logits layer (Glorot & Bengio, 2010). */
  glorot(layer: string): ReturnType<typeof tf.initializers.heNormal> {
    return tf.initializers.glorotUniform({ seed: deriveSeed(this.seed, layer, 'kernel') });
  }
  /** A seed for a dropout layer. */
  dropoutSeed(layer: string): number {
    return deriveSeed(this.seed, layer, 'dropout');
  }
}

/** Validates that `inputShape` is [height, width, channels] of at least `minSide` pixels. */
export function imageInput(owner: string, inputShape: readonly number[], minSide: number): [number, number, number] {
  if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ConfigError(`${owner}.inputShape`, `expected [height, width, channels] of positive integers, got [${inputShape.join(', ')}]`);
  }
  const [h, w, c] = inputShape as [number, number, number];
  if (h < minSide || w < minSide) {
    throw new ConfigError(`${owner}.inputShape`, `expected height and width ≥ ${minSide}, got ${h}×${w}`);
  }
  return [h, w, c];
}

export function checkCommon(owner: string, options: ArchitectureOptions): void {
  if (!Number.isInteger(options.numClasses) || options.numClasses < 2) {
    throw new ConfigError(`${owner}.numClasses`, `expected an integer ≥ 2, got ${options.numClasses}`);
  }
  if (options.seed !== undefined && !(Number.isInteger(options.seed) && options.seed >= 0)) {
    throw new ConfigError(`${owner}.seed`, `expected a non-negative integer, got ${options.seed}`);
  }
}

/** Scales a channel count by a width multiplier, keeping at least `min`. */
export function scaled(channels: number, multiplier: number, min = 1): number {
  return Math.max(min, Math.round(channels * multiplier));
}

/**
 * A student whose dropout layers draw a fresh, seeded mask on every training-mode call. tfjs
 * reuses one mask forever when a Dropout layer has a fixed seed (its op reseeds each call),
 * and draws from Math.random without one; here each call sets the next seed from a stream
 * derived from the build seed, so a run is reproducible and masks still vary per step. (The
 * stream restarts when the model is rebuilt, e.g. on resume.)
 */
export class SeededDropoutStudent extends LayersStudent {
  private readonly dropoutRng: Rng;
  private readonly dropoutLayers: tf.layers.Layer[];

  constructor(layersModel: tf.LayersModel, options: { name: string; seed: number }) {
    super(layersModel, { name: options.name });
    this.dropoutRng = new Rng(deriveSeed(options.seed, 'dropout-stream'));
    this.dropoutLayers = layersModel.layers.filter((l) => l.getClassName() === 'Dropout');
  }

  private reseed(options: ForwardOptions): void {
    if (!options.training) return;
    for (const layer of this.dropoutLayers) (layer as unknown as { seed: number }).seed = this.dropoutRng.seed();
  }

  override logits(x: tf.Tensor, options: ForwardOptions = {}): tf.Tensor2D {
    this.reseed(options);
    return super.logits(x, options);
  }

  override forward(x: tf.Tensor, options: ForwardOptions = {}): ModelOutputs {
    this.reseed(options);
    return super.forward(x, options);
  }
}

/** Wraps a built layers model as a core Student (with per-step dropout seeds when it has dropout). */
export function toStudent(model: tf.LayersModel, name: string, seed: number): Student {
  const hasDropout = model.layers.some((l) => l.getClassName() === 'Dropout');
  return hasDropout ? new SeededDropoutStudent(model, { name, seed }) : new LayersStudent(model, { name });
}

/** Signature of the plain builder functions: options plus the architecture's own parameters. */
export type ArchitectureBuilder<S extends ParamSpecs> = (options: ArchitectureOptions & Partial<ParamValues<S>>) => tf.LayersModel;

/** A {@link ModelArchitecture} plugin over a plain builder with validated parameters. */
export class LayersArchitecture<S extends ParamSpecs> implements ModelArchitecture {
  readonly params: ParamValues<S>;

  constructor(
    readonly name: string,
    readonly spec: S,
    params: Readonly<Record<string, unknown>> | undefined,
    private readonly builder: ArchitectureBuilder<S>,
  ) {
    this.params = validateParams(name, spec, params);
  }

  build(options: ModelBuildOptions): Student {
    const model = this.builder({ ...this.params, ...options });
    return toStudent(model, options.name, options.seed);
  }
}

/** Splits `options` into the common options and validated architecture params. */
export function splitOptions<S extends ParamSpecs>(
  owner: string,
  spec: S,
  options: ArchitectureOptions & Partial<ParamValues<S>>,
): { common: Required<ArchitectureOptions>; params: ParamValues<S> } {
  const { inputShape, numClasses, seed, name, ...rest } = options;
  const common = { inputShape, numClasses, seed: seed ?? 0, name: name ?? owner };
  checkCommon(owner, common);
  return { common, params: validateParams(owner, spec, rest as Record<string, unknown>) };
}
