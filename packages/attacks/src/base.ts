import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  ModelError,
  attackTraits,
  validateParams,
  type Attack,
  type AttackMode,
  type AttackOptions,
  type AttackResult,
  type InputBounds,
  type Model,
  type ModelCapability,
  type Norm,
  type ParamSpecs,
  type ParamValues,
} from '@tempered/core';
import { resolveModel, type ModelLike } from './model-like.js';

/** Everything an attack needs for one batch, validated. Tensors belong to the caller. */
export interface AttackContext {
  readonly mode: AttackMode;
  readonly targeted: boolean;
  /** The classes the objective is about: targets when targeted, else the true labels (int32 [batch]). */
  readonly labels: tf.Tensor1D;
  readonly bounds: InputBounds;
  readonly numClasses: number;
  /** options.seed, when given. */
  readonly seed?: number;
}

// Inputs are pixel data; a little slack for values produced by float arithmetic.
const BOUNDS_TOLERANCE = 1e-5;

/** Validates bounds: finite, min < max. */
export function checkBounds(owner: string, bounds: InputBounds): InputBounds {
  if (!Number.isFinite(bounds.min) || !Number.isFinite(bounds.max) || !(bounds.min < bounds.max)) {
    throw new ConfigError(`${owner}.bounds`, `expected finite min < max, got [${bounds.min}, ${bounds.max}]`);
  }
  return bounds;
}

function checkLabels(field: string, labels: tf.Tensor, batch: number, numClasses: number): void {
  if (labels.rank !== 1 || labels.shape[0] !== batch) {
    throw new ConfigError(field, `expected a 1-D tensor of ${batch} class indices, got shape [${labels.shape.join(', ')}]`);
  }
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new ConfigError(field, `expected class indices in [0, ${numClasses}), got ${v} at position ${i}`);
    }
  }
}

/**
 * Checks the model, inputs, labels and options of one attack call (torchattacks/ART style:
 * an unsupported mode, missing targets, out-of-range labels or inputs outside the bounds throw).
 */
export function resolveContext(
  attack: Pick<Attack, 'name' | 'supportedModes' | 'requires' | 'epsilon' | 'traits'>,
  model: Model,
  x: tf.Tensor,
  y: tf.Tensor1D,
  options: AttackOptions = {},
): AttackContext {
  const owner = attack.name;
  if (typeof model?.logits !== 'function') throw new ModelError(`${owner}: expected a model with logits(x)`);
  for (const need of attack.requires) {
    if (need === 'features' && !model.hasFeatures) throw new ModelError(`${owner}: model "${model.name}" does not expose features`);
  }
  const mode = options.mode ?? attackTraits(attack).defaultMode;
  if (!attack.supportedModes.includes(mode)) {
    throw new ConfigError(`${owner}.mode`, `expected one of ${attack.supportedModes.join(', ')}, got "${mode}"`);
  }
  const bounds = checkBounds(owner, options.bounds ?? model.bounds);
  if (x.rank < 2 || x.shape[0] === 0) throw new ConfigError(`${owner}.x`, `expected a non-empty batch [batch, ...inputShape], got [${x.shape.join(', ')}]`);
  const expected = model.inputShape;
  if (expected.length > 0 && x.shape.slice(1).join('x') !== expected.join('x')) {
    throw new ConfigError(`${owner}.x`, `expected shape [batch, ${expected.join(', ')}], got [${x.shape.join(', ')}]`);
  }
  const batch = x.shape[0]!;
  const numClasses = model.numClasses;
  checkLabels(`${owner}.y`, y, batch, numClasses);
  const [lo, hi] = tf.tidy(() => [tf.min(x).dataSync()[0]!, tf.max(x).dataSync()[0]!]);
  if (lo! < bounds.min - BOUNDS_TOLERANCE || hi! > bounds.max + BOUNDS_TOLERANCE) {
    throw new ConfigError(`${owner}.x`, `expected values within bounds [${bounds.min}, ${bounds.max}], got [${lo}, ${hi}]`);
  }
  if (options.seed !== undefined && !Number.isInteger(options.seed)) {
    throw new ConfigError(`${owner}.seed`, `expected an integer, got ${options.seed}`);
  }
  const targeted = mode === 'targeted';
  if (targeted) {
    if (!options.targets) throw new ConfigError(`${owner}.targets`, 'expected int32 target classes [batch] in targeted mode');
    checkLabels(`${owner}.targets`, options.targets, batch, numClasses);
  }
  return { mode, targeted, labels: targeted ? options.targets! : y, bounds, numClasses, seed: options.seed };
}

/**
 * Shared plumbing of every attack: whitelisted, validated parameters (constructor and
 * `setParams`), option checks, and `generate` in terms of `run`. A subclass declares `name`,
 * `norm`, `supportedModes` and `epsilon`, calls `super(name, PARAMS, params)`, and implements
 * `attack`; `this.values` holds the validated parameters. See docs/writing-an-attack.md.
 *
 * @example
 * ```ts
 * @injectable()
 * export class RandomSignNoise extends BaseAttack<typeof NOISE_PARAMS> {
 *   readonly name = 'random-sign';
 *   readonly norm = 'linf' as const;
 *   readonly supportedModes = ['untargeted'] as const;
 *   constructor(@inject(TOKENS.PluginParams) params?: Partial<ParamValues<typeof NOISE_PARAMS>>) {
 *     super('random-sign', NOISE_PARAMS, params);
 *   }
 *   get epsilon(): number {
 *     return this.values.epsilon;
 *   }
 *   protected async attack(_model: Model, x: tf.Tensor, _y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
 *     // … build x′ inside context.bounds
 *   }
 * }
 * ```
 */
export abstract class BaseAttack<S extends ParamSpecs> implements Attack {
  abstract readonly name: string;
  abstract readonly norm: Norm;
  abstract readonly supportedModes: readonly AttackMode[];
  readonly requires: readonly ModelCapability[] = ['logits', 'inputGradients'];
  protected values: ParamValues<S>;

  protected constructor(
    private readonly owner: string,
    private readonly spec: S,
    params?: object,
  ) {
    this.values = this.validate(validateParams(owner, spec, params as Record<string, unknown> | undefined));
  }

  /** The budget in this attack's norm. */
  abstract get epsilon(): number;

  /** Cross-field checks after per-field validation; return the values or throw a ConfigError. */
  protected validate(values: ParamValues<S>): ParamValues<S> {
    return values;
  }

  params(): Record<string, unknown> {
    return { ...this.values };
  }

  /** The parameters it runs with: {@link params} with shorthands resolved by {@link resolveParams}. */
  effectiveParams(): Record<string, unknown> {
    return this.resolveParams({ ...this.values });
  }

  /** Replaces shorthand values (such as "0 = derived from ε") by the values the attack uses; default: none. */
  protected resolveParams(values: ParamValues<S>): Record<string, unknown> {
    return values;
  }

  setParams(params: Record<string, unknown>): void {
    this.values = this.validate(validateParams(this.owner, this.spec, params, this.values));
  }

  async generate(model: Model, x: tf.Tensor, y: tf.Tensor1D, options?: AttackOptions): Promise<tf.Tensor> {
    const { adversarial } = await this.run(model, x, y, options);
    return adversarial;
  }

  async run(model: Model, x: tf.Tensor, y: tf.Tensor1D, options?: AttackOptions): Promise<AttackResult> {
    return this.attack(model, x, y, resolveContext(this, model, x, y, options));
  }

  protected abstract attack(model: Model, x: tf.Tensor, y: tf.Tensor1D, context: AttackContext): Promise<AttackResult>;
}

/** Splits a plain-API argument object into attack parameters and per-call options. */
export function splitCall(
  spec: ParamSpecs,
  input: object = {},
): { params: Record<string, unknown>; options: AttackOptions } {
  const params: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key in spec) params[key] = value;
    else if (key === 'mode' || key === 'targets' || key === 'bounds' || key === 'seed') options[key] = value;
    else params[key] = value; // unknown: validateParams names it
  }
  return { params, options: options as AttackOptions };
}

/** Per-call options of the plain attack functions. */
export type CallOptions = AttackOptions;

/** Runs `attack` on a {@link ModelLike} for the plain function API. */
export async function runOnModelLike(
  attack: Attack,
  model: ModelLike,
  x: tf.Tensor,
  y: tf.Tensor1D,
  options: AttackOptions,
): Promise<AttackResult> {
  return attack.run(resolveModel(model, x, options.bounds), x, y, options);
}
