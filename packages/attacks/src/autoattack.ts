import * as tf from '@tensorflow/tfjs';
import { ConfigError, TOKENS, defineParams, deriveSeed, type Attack, type AttackOptions, type AttackResult, type Model, type ParamValues } from '@tempered/core';
import { inject, injectable } from 'tsyringe';
import { Apgd } from './apgd.js';
import { BaseAttack, runOnModelLike, splitCall, type AttackContext } from './base.js';
import { Fab } from './fab.js';
import type { ModelLike } from './model-like.js';
import { isAdversarial } from './objective.js';
import { Square } from './square.js';
import { scatterRows } from './tensors.js';

/** The component attacks AutoAttack can run, by the reference implementation's names. */
export const AUTOATTACK_COMPONENTS = ['apgd-ce', 'apgd-dlr', 'apgd-t', 'fab-t', 'square'] as const;
export type AutoAttackComponent = (typeof AUTOATTACK_COMPONENTS)[number];

/** The standard version's sequence, as the reference's `version='standard'`. */
export const AUTOATTACK_STANDARD: readonly AutoAttackComponent[] = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];

/** AutoAttack parameters. The standard version fixes everything but the threat model and the seed. */
export const AUTOATTACK_PARAMS = defineParams({
  norm: { type: 'enum', values: ['linf', 'l2'], default: 'linf', description: 'threat model: L∞ or L2 ball' },
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'radius ε of the ball (MNIST L∞ 0.3, CIFAR-10 L∞ 8/255, L2 0.5)' },
  version: { type: 'enum', values: ['standard', 'custom'], default: 'standard', description: "'standard' fixes the sequence and budgets; 'custom' uses the settings below" },
  attacks: { type: 'string', default: AUTOATTACK_STANDARD.join(','), description: `comma-separated components in order (custom only): ${AUTOATTACK_COMPONENTS.join(', ')}` },
  steps: { type: 'number', default: 100, min: 1, integer: true, description: 'APGD and FAB iterations per run (custom only)' },
  targetClasses: { type: 'number', default: 9, min: 1, integer: true, description: 'APGD-T and FAB-T target classes (custom only)' },
  queries: { type: 'number', default: 5000, min: 1, integer: true, description: 'Square query budget (custom only)' },
  seed: { type: 'number', default: 0, integer: true, min: 0, description: 'seed of every component (options.seed overrides)' },
});
export type AutoAttackParams = ParamValues<typeof AUTOATTACK_PARAMS>;

const STANDARD_FIXED = { attacks: AUTOATTACK_STANDARD.join(','), steps: 100, targetClasses: 9, queries: 5000 } as const;

/** Parses and checks a component list. */
export function parseComponents(field: string, list: string): AutoAttackComponent[] {
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(field, `expected at least one of ${AUTOATTACK_COMPONENTS.join(', ')}`);
  for (const name of names) {
    if (!(AUTOATTACK_COMPONENTS as readonly string[]).includes(name)) {
      throw new ConfigError(field, `unknown component "${name}"; expected ${AUTOATTACK_COMPONENTS.join(', ')}`);
    }
  }
  return names as AutoAttackComponent[];
}

/**
 * AutoAttack (Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of
 * diverse parameter-free attacks", ICML 2020): the evaluation RobustBench reports.
 *
 * The standard version runs, in order, APGD-CE (100 iterations, no restarts), APGD-T (targeted
 * DLR, 100 iterations against each of the 9 most likely other classes), FAB-T (100 iterations
 * against each of the 9 most likely other classes, 1 restart, α_max 0.1, η 1.05, β 0.9; a success
 * counts only within ε) and Square (5000 queries, p_init 0.8), each only on the examples still
 * robust, so an example's result is the worst case over the components. Examples the model
 * misclassifies on x are not attacked.
 *
 * Parameters (defaults): `norm` ('linf'), `epsilon` (0.3), `seed` (0; `options.seed` overrides),
 * `version` ('standard'). With `version: 'custom'`: `attacks` ('apgd-ce,apgd-t,fab-t,square'; also
 * 'apgd-dlr'), `steps` (100, APGD and FAB), `targetClasses` (9, APGD-T and FAB-T), `queries`
 * (5000); changing them under the standard version throws, so a reported "AutoAttack" is always
 * the same evaluation.
 *
 * Result: `adversarial` is the breaking point of each broken example, x for the others;
 * `brokenBy[i]` names the component that first broke example i (null: still robust, or
 * misclassified on x); `ran` lists the components that ran (one is skipped once no example is
 * robust); `iterations[i]` sums the APGD and FAB iterations and Square queries spent on example i.
 *
 * Departures from the reference: APGD-T is skipped below 4 classes, where the targeted DLR loss is
 * undefined (the reference warns and fails); FAB-T is skipped when ε = 0, where no perturbation
 * fits the budget. Untargeted only.
 *
 * @example
 * const autoattack = new AutoAttack({ epsilon: 0.3 });
 * const { adversarial, brokenBy, ran } = await autoattack.run(model, x, y, { seed: 1 });
 */
@injectable()
export class AutoAttack extends BaseAttack<typeof AUTOATTACK_PARAMS> {
  readonly name = 'autoattack';
  readonly supportedModes = ['untargeted'] as const;
  /** An ensemble; of its components only Square is black-box. */
  readonly traits = { ensemble: true, blackBoxComponents: ['square'] } as const;

  constructor(@inject(TOKENS.PluginParams) params?: Partial<AutoAttackParams> | Record<string, unknown>) {
    super('autoattack', AUTOATTACK_PARAMS, params);
  }

  get norm(): 'linf' | 'l2' {
    return this.values.norm;
  }

  get epsilon(): number {
    return this.values.epsilon;
  }

  protected override validate(values: AutoAttackParams): AutoAttackParams {
    if (values.version === 'standard') {
      for (const [key, fixed] of Object.entries(STANDARD_FIXED)) {
        const value = values[key as keyof typeof STANDARD_FIXED];
        if (value !== fixed) throw new ConfigError(`autoattack.${key}`, `the standard version fixes ${JSON.stringify(fixed)}, got ${JSON.stringify(value)}; set version: custom to change it`);
      }
    }
    parseComponents('autoattack.attacks', values.attacks);
    return values;
  }

  /** The component attack behind a name, with this run's settings. */
  private component(name: AutoAttackComponent, seed: number): Attack {
    const { norm, epsilon, steps, targetClasses, queries } = this.values;
    const componentSeed = deriveSeed(seed, 'autoattack', name) % 2 ** 31;
    switch (name) {
      case 'apgd-ce':
        return new Apgd({ norm, epsilon, steps, loss: 'ce', seed: componentSeed });
      case 'apgd-dlr':
        return new Apgd({ norm, epsilon, steps, loss: 'dlr', seed: componentSeed });
      case 'apgd-t':
        return new Apgd({ norm, epsilon, steps, loss: 'dlr', targetClasses, seed: componentSeed });
      case 'fab-t':
        return new Fab({ norm, epsilon, steps, targetClasses, restarts: 1, seed: componentSeed });
      case 'square':
        return new Square({ norm, epsilon, queries, seed: componentSeed });
    }
  }

  protected async attack(model: Model, x: tf.Tensor, y: tf.Tensor1D, context: AttackContext): Promise<AttackResult> {
    const batch = x.shape[0]!;
    const seed = context.seed ?? this.values.seed;
    const robust = tf.tidy(() => Array.from(isAdversarial(model.logits(x, { training: false }), y, false).dataSync(), (wrong) => !wrong));
    const brokenBy: (string | null)[] = new Array<string | null>(batch).fill(null);
    const iterations = new Int32Array(batch);
    const ran: string[] = [];
    let result = x.clone();
    for (const name of parseComponents('autoattack.attacks', this.values.attacks)) {
      if (name === 'apgd-t' && context.numClasses < 4) continue;
      if (name === 'fab-t' && this.values.epsilon === 0) continue; // Fab reads epsilon 0 as no budget
      const active = robust.flatMap((r, i) => (r ? [i] : []));
      if (active.length === 0) break;
      ran.push(name);
      const index = tf.tensor1d(active, 'int32');
      const xs = tf.gather(x, index);
      const ys = tf.gather(y, index) as tf.Tensor1D;
      const outcome = await this.component(name, seed).run(model, xs, ys, { bounds: context.bounds });
      const broke = tf.tidy(() => Array.from(isAdversarial(model.logits(outcome.adversarial, { training: false }), ys, false).dataSync(), Boolean));
      const next = scatterRows(result, active, outcome.adversarial, broke);
      result.dispose();
      result = next;
      active.forEach((i, k) => {
        iterations[i]! += outcome.iterations[k]!;
        if (broke[k]) {
          robust[i] = false;
          brokenBy[i] = name;
        }
      });
      tf.dispose([index, xs, ys, outcome.adversarial]);
    }
    return { adversarial: result, iterations, brokenBy, ran };
  }
}

/**
 * AutoAttack on any {@link ModelLike}; `args` mixes {@link AutoAttackParams} and call options.
 *
 * @example
 * const { adversarial, brokenBy } = await autoattack(layersModel, x, y, { epsilon: 0.3 });
 */
export async function autoattack(model: ModelLike, x: tf.Tensor, y: tf.Tensor1D, args?: Partial<AutoAttackParams> & AttackOptions): Promise<AttackResult> {
  const { params, options } = splitCall(AUTOATTACK_PARAMS, args);
  return runOnModelLike(new AutoAttack(params), model, x, y, options);
}
