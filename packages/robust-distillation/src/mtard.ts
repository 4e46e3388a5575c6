import * as tf from '@tensorflow/tfjs';
import { EpsilonSchedule, WALK_PARAMS, batchesPerEpoch, objectiveWalk } from '@tempered/attacks';
import { ModelError, crossEntropy, defineMethod, defineParams, type ParamValues, type StepLoss } from '@tempered/core';
import { klReductionParam, reduceKl } from './kl.js';

export const MTARD_PARAMS = defineParams({
  weightLearningRate: {
    type: 'number',
    default: 0.025,
    min: 0,
    max: 1,
    description:
      "Rate η of the adaptive teacher weights, scaled by the phase learning rate over its initial value (the authors' ×0.1 decays with the learning rate; authors: 0.025)",
  },
  weightExponent: {
    type: 'number',
    default: 1,
    greaterThan: 0,
    description: 'Exponent β on each relative loss L/L₀ in the weights\' target (authors: 1, their `bert`)',
  },
  initialCleanWeight: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    description: "Clean teacher's weight before the first update; the robust teacher's is 1 minus it (authors: 1/2)",
  },
  ...klReductionParam('elementwise-mean', "The MTARD code: torch.mean over B·C elements ('elementwise-mean')."),
  ...WALK_PARAMS,
});

export type MtardParams = ParamValues<typeof MTARD_PARAMS>;

/** The teacher roles MTARD declares: the robust one first (primary: what reports read as its teacher). */
export const MTARD_TEACHERS = {
  robust: 'an adversarially trained teacher, matched on the adversarial examples x′ (e.g. trades)',
  clean: 'a teacher trained on clean inputs, matched on x (e.g. standard, larger than the student)',
} as const;

/** Name of MTARD's checkpointed state: [started, clean weight, initial robust KL, initial clean KL]. */
export const MTARD_STATE_KEY = 'teacherWeights';

/**
 * MTARD's adaptive normalisation of its two teacher weights: the weight of each teacher moves
 * towards its share of the relative losses, so the teacher whose KL has fallen least (relative to
 * the first batch's) gains weight. Numbers are held in float32 so a checkpoint restores them exactly.
 */
export class AdaptiveTeacherWeights {
  private started = false;
  private initialRobust = 0;
  private initialClean = 0;
  private clean: number;

  constructor(
    initialCleanWeight: number,
    private readonly exponent: number,
  ) {
    this.clean = Math.fround(initialCleanWeight);
  }

  /** The current weights (robust + clean = 1). */
  get weights(): { readonly robust: number; readonly clean: number } {
    return { robust: Math.fround(1 - this.clean), clean: this.clean };
  }

  /**
   * One update from this batch's two KL values at rate η (the first call records them as L₀):
   * w_c ← w_c − η·(w_c − r_c/(r_r + r_c)) with r = (L/L₀)^β, then w_r = 1 − w_c. Returns the new weights.
   */
  update(robustKl: number, cleanKl: number, rate: number): { readonly robust: number; readonly clean: number } {
    if (!this.started) {
      this.started = true;
      this.initialRobust = Math.fround(robustKl);
      this.initialClean = Math.fround(cleanKl);
    }
    // A zero first loss (a teacher the student already matches) leaves its ratio at 1.
    const relativeRobust = (this.initialRobust > 0 ? robustKl / this.initialRobust : 1) ** this.exponent;
    const relativeClean = (this.initialClean > 0 ? cleanKl / this.initialClean : 1) ** this.exponent;
    const total = relativeRobust + relativeClean;
    if (total > 0 && Number.isFinite(total)) this.clean = Math.fround(this.clean - rate * (this.clean - relativeClean / total));
    return this.weights;
  }

  /** A copy for checkpoints: [started, clean weight, L₀ robust, L₀ clean]. */
  toTensor(): tf.Tensor1D {
    return tf.tensor1d([this.started ? 1 : 0, this.clean, this.initialRobust, this.initialClean], 'float32');
  }

  /** Restores {@link toTensor}'s values. */
  load(values: Float32Array | Int32Array | Uint8Array): void {
    if (values.length !== 4) throw new ModelError(`mtard state "${MTARD_STATE_KEY}" holds ${values.length} values; expected 4`);
    this.started = values[0] === 1;
    this.clean = values[1]!;
    this.initialRobust = values[2]!;
    this.initialClean = values[3]!;
  }
}

interface MtardPrepared {
  readonly schedule: EpsilonSchedule;
  readonly weights: AdaptiveTeacherWeights;
}

/**
 * MTARD, Multi-Teacher Adversarial Robustness Distillation (Zhao, Yu, Sun, Zhang & Wei 2022,
 * "Enhanced Accuracy and Robustness via Multi-Teacher Adversarial Distillation", ECCV), as
 * in the authors' code (zhaoshiji123/MTARD@6480a1b, `mtard/mtard_resnet18_cifar10.py` and
 * `mtard/mtard_loss.py`):
 *
 * `L = w_r·KL(T_r(x′) ‖ S(x′)) + w_c·KL(T_c(x) ‖ S(x))`, x′ = argmax_{‖x′−x‖∞≤ε} CE(S(x′), y)
 *
 * Two teachers, named by role in the run config (`students[i].teachers`): the robust teacher T_r
 * is matched on the adversarial examples, the clean teacher T_c on the clean inputs. The inner
 * maximisation involves the student alone: PGD on CE(S(x′), y) with the hard labels, from
 * x + 0.001·N(0, I), sign steps, student in inference mode (their `mtard_inner_loss_ce`,
 * `model.eval()`); no teacher takes part. T = 1 (no temperature). KL direction: teacher first,
 * Σ p_T log(p_T / p_S), as their `kl_loss(log_softmax(S), softmax(T))`.
 *
 * Adaptive normalisation (their "adaptive normalization loss"), before each step's gradient, from
 * the batch's two KL values (held constant, their `.item()`): with L₀ each KL of the very first
 * batch, r = (L/L₀)^β, w_c ← w_c − η·(w_c − r_c/(r_r + r_c)) and w_r = 1 − w_c (from w_c = 1/2).
 * The teacher whose loss has fallen least relative to its start gains weight. η decays with the
 * learning rate (theirs ×0.1 at the same epochs); we scale η by the phase learning rate over its
 * initial value, which is exactly that under a step schedule. The weights (and L₀) are method
 * state: checkpointed and restored on resume. Reported terms: `robustKl`, `cleanKl` (as
 * reduced) and the teacher weights used, `robustWeight`, `cleanWeight` (epoch means); accuracy is the
 * student's on x′.
 *
 * KL normalisation: the authors reduce with `torch.mean` over all B·C elements, PyTorch's
 * `nn.KLDivLoss()` default ('mean'), the true KL divided by C; `klReduction: 'elementwise-mean'`
 * (default) is theirs, 'batchmean' the true KL. The weight update only uses ratios L/L₀, so it is
 * the same under either reduction.
 *
 * Parameters (defaults, MNIST-scale; the authors' CIFAR-10 values in brackets):
 * `weightLearningRate` η 0.025 [0.025, ×0.1 at epochs 215, 260, 285], `weightExponent` β 1 [1],
 * `initialCleanWeight` 0.5 [1/2], `klReduction` 'elementwise-mean' [same], `norm` 'linf',
 * `epsilon` 0.3 [8/255], `stepSize` 0.05 [2/255], `steps` 10 [10], `start` 'gaussian'
 * [x + 0.001·N(0, I)], `cleanEpochs` 0, `warmupEpochs` 1 [0: full ε at once], `epochs` 10 [300],
 * `optimizer` Adam 1e-3 [SGD 0.1, momentum 0.9, weight decay 2e-4, ×0.1 at epochs 215, 260,
 * 285; batch 128]. Teachers: theirs a TRADES WideResNet-34-10 (robust) and a naturally trained
 * WideResNet-34-10 (clean), student ResNet-18 / MobileNetV2.
 *
 * Departures from their code (repository zhaoshiji123/MTARD@6480a1b):
 * - the ε warm-up (`warmupEpochs: 0` is theirs); with it, L₀ is measured at the first batch's
 *   small ε, so the robust KL's ratio starts high and the robust teacher gains weight early;
 * - the Gaussian start is clipped into [0, 1] before the first step (`mtard_loss.py:40`, theirs
 *   only after it);
 * - their KL adds 1e-5 inside log p_T (`mtard_resnet18_cifar10.py:52`), ours is exact;
 * - η follows the phase learning rate (`:138`, theirs multiplies it by 0.1 at the milestones);
 * - a first KL of exactly 0 keeps that teacher's ratio at 1 (theirs divides by zero, `:87-88`);
 * - core's default optimiser (Adam 1e-3, constant) unless the config gives theirs (`:42`, `:135-137`;
 *   examples/benchmark does, scaled).
 * NISP-official/Fair-ARD@910c8cd `Fair-MTARD.py` re-implements it (class re-weighting added; its
 * clean term there matches S(x) to the robust teacher at x′, `:144`, which is not MTARD's).
 *
 * Shapes: inputs [batch, ...inputShape]; teachers' and student logits [batch, classes].
 *
 * @example
 * ```yaml
 * teacher: { method: trades, model: papernot-mnist, epochs: 10 }
 * students:
 *   - name: clean-teacher
 *     method: standard
 *     model: papernot-mnist
 *     params: { epochs: 10 }
 *   - method: mtard
 *     teachers: { robust: teacher, clean: clean-teacher }
 *     params: { epsilon: 0.3, stepSize: 0.05, steps: 10, weightLearningRate: 0.025 }
 * ```
 * ```ts
 * register(container); // @tempered/robust-distillation
 * const mtard = createPlugin(container, TOKENS.Method, 'mtard', { epsilon: 0.3 });
 * await mtard.setup({ student, teachers: { robust, clean }, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(mtard, { model: 'mtard', train, batchSize: 64, seed: 1 });
 * ```
 */
export const MTARD = defineMethod({
  name: 'mtard',
  description: 'MTARD (Zhao et al. 2022): a robust teacher on x′ and a clean teacher on x, adaptively weighted',
  teacher: 'required',
  teachers: MTARD_TEACHERS,
  adversarial: true,
  params: MTARD_PARAMS,
  prepare: ({ train, batchSize }, params): MtardPrepared => ({
    schedule: new EpsilonSchedule(params, batchesPerEpoch(train.size, batchSize)),
    weights: new AdaptiveTeacherWeights(params.initialCleanWeight, params.weightExponent),
  }),
  step({ batch: { x, labels }, step, params, student, teachers, learningRate, prepared: { schedule, weights }, minimize }) {
    const { klReduction } = params;
    const rate = params.weightLearningRate * (learningRate / params.optimizer.learningRate);
    const cleanTeacherLogits = tf.tidy(() => teachers.clean!.logits(x));
    const walk = { ...params, ...schedule.budget(step) };
    const xAdv = objectiveWalk(x, (v) => crossEntropy(student.logits(v, { training: false }), labels), walk, step.rng, student.bounds);
    const robustTeacherLogits = tf.tidy(() => teachers.robust!.logits(xAdv));
    try {
      return minimize((): StepLoss => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const robustKl = reduceKl({ targetLogits: robustTeacherLogits, logits: adversarialLogits, reduction: klReduction });
        const cleanKl = reduceKl({ targetLogits: cleanTeacherLogits, logits: student.logits(x, { training: true }), reduction: klReduction });
        // The weights are numbers, not part of the graph (their `.item()`); updated before this step's loss.
        const w = weights.update(robustKl.dataSync()[0]!, cleanKl.dataSync()[0]!, rate);
        const loss = tf.add(tf.mul(robustKl, w.robust), tf.mul(cleanKl, w.clean)) as tf.Scalar;
        return {
          loss,
          terms: { robustKl, cleanKl, robustWeight: tf.scalar(w.robust), cleanWeight: tf.scalar(w.clean) },
          logits: adversarialLogits,
          labels,
          accuracyOn: 'adversarial',
        };
      });
    } finally {
      tf.dispose([xAdv, cleanTeacherLogits, robustTeacherLogits]);
    }
  },
  state: ({ weights }) => ({ [MTARD_STATE_KEY]: weights.toTensor() }),
  loadState({ weights }, state) {
    const value = state[MTARD_STATE_KEY];
    if (!value) throw new ModelError(`mtard state is missing "${MTARD_STATE_KEY}"`);
    weights.load(value.dataSync());
  },
});
