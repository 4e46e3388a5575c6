import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  ModelError,
  Rng,
  TOKENS,
  batchesPerEpoch,
  createPlugin,
  defineMethod,
  defineParams,
  deriveSeed,
  type Loss,
  type LossContext,
  type MethodSetup,
  type Model,
  type ModelOutputs,
  type ParamValues,
  type StepLoss,
} from '@tempered/core';
import { EpsilonSchedule, INNER_MAX_PARAMS as SHARED_INNER_MAX_PARAMS, ScheduledInnerAttack, klPgd, trainingModeView } from '@tempered/attacks';
import { DenoisedKlLoss } from './denoised-kl.js';

/**
 * Inner-maximisation parameters: @tempered/attacks' shared ones (MNIST defaults; CIFAR-10:
 * ε 8/255, step 2/255, 10 steps; the ε warm-up `cleanEpochs`, `warmupEpochs`) plus the choice
 * of objective.
 */
export const INNER_MAX_PARAMS = defineParams({
  innerLoss: {
    type: 'enum',
    values: ['ce', 'kl'],
    default: 'ce',
    description: "What x′ maximises: 'ce' = CE(S(x′), y) via the named inner attack (as ARD); 'kl' = KL(softmax(T(x)) ‖ softmax(S(x′))) by PGD (TRADES-style)",
  },
  ...SHARED_INNER_MAX_PARAMS,
});

export const CRDND_PARAMS = defineParams({
  temperature: { type: 'number', default: 30, greaterThan: 0, description: 'Imitation temperature τ (ARD’s 30)' },
  adaptiveCompensation: {
    type: 'boolean',
    default: true,
    description: 'Map the student’s x′ prediction through a learnable transition matrix M = row-softmax(W) before the KL',
  },
  transitionInit: {
    type: 'number',
    default: 0.9,
    greaterThan: 0,
    max: 0.999,
    description: 'Initial diagonal of M (W = k·I with softmax diagonal equal to this; must exceed 1/classes)',
  },
  reliabilityWeighting: {
    type: 'boolean',
    default: true,
    description: 'Per example, r = p_teacher(y|x) weights imitation and 1 − r weights CE(S(x′), y)',
  },
  contrastive: { type: 'boolean', default: true, description: 'Add the InfoNCE term between projected student (x′) and teacher (x) features' },
  contrastiveWeight: { type: 'number', default: 0.5, min: 0, description: 'Weight λ_c of the InfoNCE term' },
  contrastiveTemperature: { type: 'number', default: 0.1, greaterThan: 0, description: 'InfoNCE temperature τ_c' },
  projectionDim: { type: 'number', default: 64, integer: true, min: 1, description: 'Size of the shared embedding the projection heads map into' },
  relational: { type: 'boolean', default: true, description: 'Add relation matching of batch cosine-similarity matrices' },
  relationalWeight: { type: 'number', default: 1, min: 0, description: 'Weight λ_r of the relation term' },
  relationMode: { type: 'enum', values: ['kl', 'mse'], default: 'kl', description: 'Relation distance: KL over softmax rows, or MSE' },
  relationTemperature: { type: 'number', default: 0.1, greaterThan: 0, description: 'τ_r of the relation rows (kl mode)' },
  infoNceLoss: { type: 'string', default: 'info-nce', description: 'Registered loss (TOKENS.Loss) of the contrastive slot, on projected features' },
  relationLoss: { type: 'string', default: 'relation-matching', description: 'Registered loss (TOKENS.Loss) of the relation slot, on raw features' },
  attackTrainingMode: {
    type: 'boolean',
    default: true,
    description: 'Craft x′ with the student in training mode, as ARD (its authors call net.train()); false = inference mode',
  },
  ...INNER_MAX_PARAMS,
  epochs: { type: 'number', default: 10, integer: true, min: 1, description: 'Training epochs' },
});

export type CrdndParams = ParamValues<typeof CRDND_PARAMS>;

/** Names of the tensors in the method's checkpointed `state()`. */
export const CRDND_STATE_KEYS = ['transitionLogits', 'studentProjection', 'teacherProjection'] as const;
export type CrdndStateKey = (typeof CRDND_STATE_KEYS)[number];

/** Glorot-uniform [rows, cols] from a seeded stream, as a trainable variable. */
function seededProjection(rows: number, cols: number, seed: number): tf.Variable {
  const limit = Math.sqrt(6 / (rows + cols));
  return tf.tidy(() => tf.variable(tf.tensor2d(new Rng(seed).uniformArray(rows * cols, -limit, limit), [rows, cols]), true));
}

function featureSize(model: Model): number {
  return tf.tidy(() => {
    const out = model.forward(tf.zeros([1, ...model.inputShape]));
    return out.features!.shape[1];
  });
}

/**
 * CRDND, Contrastive Relationship DeNoise Distillation (Wang et al., ICASSP 2023, "Adversarial
 * Contrastive Distillation with Adaptive Denoising", arXiv:2302.08764). The paper text was not
 * available where this was written, so every component below is **our design, reconstructed
 * from the abstract**, and each can be switched off for ablation:
 *
 * - Adaptive compensation (`adaptiveCompensation`): a learnable class-transition matrix
 *   M = row-softmax(W), W [C, C] owned by this method, initialised to k·I with diag(M) =
 *   `transitionInit`, trained jointly with the student, maps the student's probabilities on x′
 *   into the teacher's noisy label space: KL(softmax(T(x)/τ) ‖ softmax(S(x′)/τ)·M).
 * - Reliability weighting (`reliabilityWeighting`): r_i = p_teacher(y_i | x_i) (stop-gradient);
 *   loss_i = r_i·τ²·KL_i + (1 − r_i)·CE(S(x′_i), y_i). (Loss `crdnd-denoised-kl`.)
 * - Contrastive relationship (`contrastive`): InfoNCE (τ_c) between the L2-normalised linear
 *   projections P_s·f_S(x′) and P_t·f_T(x) (heads [d_S, D] and [d_T, D], seeded, trained).
 *   (Loss `info-nce`.)
 * - Relations (`relational`): the student's batch cosine-similarity matrix on x′ matches the
 *   teacher's on x (KL over masked softmax rows, or MSE). (Loss `relation-matching`.)
 * - Inner maximisation: `innerLoss` 'ce' runs the named attack (default 'pgd') on the student
 *   maximising CE against y, as ARD; 'kl' runs PGD maximising KL(T(x) ‖ S(x′)). As ARD, x′ is
 *   crafted with the student in training mode (`attackTrainingMode`, default true: batch-norm
 *   uses and updates batch statistics, dropout draws a mask per iteration); false crafts against
 *   the inference-mode student. ε and the step size ramp over `warmupEpochs`.
 *
 * Loss slots: the contrastive and relation terms are the losses registered as `infoNceLoss`
 * ('info-nce', given `contrastiveTemperature`) and `relationLoss` ('relation-matching', given
 * `relationMode`, `relationTemperature`); naming another registered loss replaces the term (it
 * gets its own defaults and reads `studentAdv.features`, `teacher.features`).
 *
 * `L = denoised imitation + λ_c·InfoNCE + λ_r·relation`. Reported (unweighted) terms:
 * `denoisedKl` (or `kl` when compensation is off), `ce` (reliability on), `infoNce`, `relation`.
 *
 * Parameters (defaults, untuned: no paper values are public): `temperature` 30, `adaptiveCompensation`
 * true, `transitionInit` 0.9, `reliabilityWeighting` true, `contrastive` true,
 * `contrastiveWeight` 0.5, `contrastiveTemperature` 0.1, `projectionDim` 64, `relational` true,
 * `relationalWeight` 1, `relationMode` 'kl', `relationTemperature` 0.1, `attackTrainingMode` true, `innerLoss` 'ce',
 * `innerAttack` 'pgd', `norm` 'linf', `epsilon` 0.3, `stepSize` 0.05, `steps` 10, `randomStart`
 * true, `cleanEpochs` 0, `warmupEpochs` 1 (ε and step size ramp linearly over the first epoch,
 * the shared warm-up of @tempered/attacks), `epochs` 10; core's `optimizer` (Adam 1e-3; it also
 * updates W and the heads) and `schedule` (constant). One phase, `train`.
 *
 * Needs penultimate features (`hasFeatures`) from student and teacher when the contrastive or
 * relational term is on. Shapes: logits [batch, C]; features [batch, d_S] / [batch, d_T].
 * `state()` holds W and the heads for checkpoints.
 *
 * @example
 * ```ts
 * const crdnd = createPlugin(container, TOKENS.Method, 'crdnd', { contrastive: false, epsilon: 0.3 });
 * await crdnd.setup({ student, teacher, train, batchSize: 64, seed: 1, container, createModel });
 * await new Trainer().run(crdnd, { model: 'crdnd', train, batchSize: 64, seed: 1 });
 * const { transitionLogits } = crdnd.state!(); // W, [C, C]; transitionMatrix(W) is M
 * ```
 */
/** What CRDND's setup prepares: its own trainable variables, the inner attack and the loss slots. */
interface Prepared {
  readonly variables: Partial<Record<CrdndStateKey, tf.Variable>>;
  readonly imitation: DenoisedKlLoss;
  readonly inner?: ScheduledInnerAttack;
  readonly schedule: EpsilonSchedule;
  readonly needsFeatures: boolean;
  /** The contrastive and relation slots, resolved by name from the run's container. */
  readonly infoNce?: Loss;
  readonly relation?: Loss;
}

function prepare(setup: MethodSetup, v: CrdndParams): Prepared {
  const { student, teacher } = setup;
  const needsFeatures = v.contrastive || v.relational;
  if (needsFeatures) {
    for (const model of [student, teacher!]) {
      if (!model.hasFeatures) {
        throw new ModelError(
          `model "${model.name}" exposes no penultimate features (a layer named "features"), which CRDND's contrastive and relational terms need; add one or set contrastive: false and relational: false`,
        );
      }
    }
  }
  const classes = student.numClasses;
  const variables: Partial<Record<CrdndStateKey, tf.Variable>> = {};
  if (v.adaptiveCompensation) {
    if (!(v.transitionInit > 1 / classes)) {
      throw new ConfigError('crdnd.transitionInit', `expected > 1/${classes} so M starts diagonally dominant, got ${v.transitionInit}`);
    }
    // softmax row of k·I has diagonal e^k / (e^k + C − 1) = d  ⇔  k = ln(d (C − 1) / (1 − d)).
    const k = Math.log((v.transitionInit * (classes - 1)) / (1 - v.transitionInit));
    variables.transitionLogits = tf.tidy(() => tf.variable(tf.mul(tf.eye(classes), k) as tf.Tensor2D, true));
  }
  const imitation = new DenoisedKlLoss({ reliabilityWeighting: v.reliabilityWeighting });
  imitation.bindTransition(variables.transitionLogits as tf.Tensor2D | undefined);
  if (v.contrastive) {
    variables.studentProjection = seededProjection(featureSize(student), v.projectionDim, deriveSeed(setup.seed, 'crdnd', 'student-projection'));
    variables.teacherProjection = seededProjection(featureSize(teacher!), v.projectionDim, deriveSeed(setup.seed, 'crdnd', 'teacher-projection'));
  }
  const batches = batchesPerEpoch(setup.train.size, setup.batchSize);
  const inner = v.innerLoss === 'ce' ? new ScheduledInnerAttack(setup.container, v, batches, v.attackTrainingMode) : undefined;
  const schedule = inner?.schedule ?? new EpsilonSchedule(v, batches);
  const slot = (name: string, own: string, params: Record<string, unknown>) =>
    createPlugin(setup.container, TOKENS.Loss, name, name === own ? params : {}) as Loss;
  const infoNce = v.contrastive ? slot(v.infoNceLoss, 'info-nce', { temperature: v.contrastiveTemperature }) : undefined;
  const relation = v.relational ? slot(v.relationLoss, 'relation-matching', { mode: v.relationMode, temperature: v.relationTemperature }) : undefined;
  return { variables, imitation, inner, schedule, needsFeatures, infoNce, relation };
}

export const CRDND = defineMethod({
  name: 'crdnd',
  description: 'CRDND (Wang et al. 2023; our design from the abstract): denoised, reliability-weighted ARD + contrastive and relational terms',
  teacher: 'required',
  adversarial: true,
  params: CRDND_PARAMS,
  prepare,
  release({ variables, imitation }) {
    for (const key of CRDND_STATE_KEYS) variables[key]?.dispose();
    imitation.bindTransition(undefined);
  },
  async step({ batch: { x, labels }, step, params: v, student, teacher, prepared, minimize }) {
    const { variables, imitation, inner, schedule, needsFeatures, infoNce, relation } = prepared;
    const teacherOut = tf.tidy(() => {
      const out = needsFeatures ? teacher.forward(x) : { logits: teacher.logits(x) };
      return out.features ? { logits: out.logits, features: out.features } : { logits: out.logits };
    }) as unknown as ModelOutputs;
    const xAdv = inner
      ? await inner.craft(student, x, labels, step)
      : klPgd({ model: v.attackTrainingMode ? trainingModeView(student) : student, targetLogits: teacherOut.logits, x, settings: { ...v, ...schedule.budget(step) }, rng: step.rng });
    const trainable = [...student.trainableVariables(), ...Object.values(variables)];
    try {
      return minimize((): StepLoss => {
        const adversarial: ModelOutputs = needsFeatures ? student.forward(xAdv, { training: true }) : { logits: student.logits(xAdv, { training: true }) };
        const { loss: imitationLoss, terms } = imitation.computeTerms({
          x, xAdv, labels,
          teacher: { logits: teacherOut.logits },
          studentAdv: { logits: adversarial.logits },
          temperature: v.temperature, epoch: step.epoch, step: step.step,
        });
        let loss: tf.Scalar = imitationLoss;
        const context = (studentFeatures: tf.Tensor2D, teacherFeatures: tf.Tensor2D): LossContext => ({
          x, xAdv, labels, temperature: v.temperature, epoch: step.epoch, step: step.step,
          studentAdv: { logits: adversarial.logits, features: studentFeatures },
          teacher: { logits: teacherOut.logits, features: teacherFeatures },
        });
        if (infoNce) {
          const anchors = tf.matMul(adversarial.features!, variables.studentProjection!) as tf.Tensor2D;
          const positives = tf.matMul(teacherOut.features!, variables.teacherProjection!) as tf.Tensor2D;
          terms.infoNce = infoNce.compute(context(anchors, positives));
          loss = tf.add(loss, tf.mul(terms.infoNce, v.contrastiveWeight));
        }
        if (relation) {
          terms.relation = relation.compute(context(adversarial.features!, teacherOut.features!));
          loss = tf.add(loss, tf.mul(terms.relation, v.relationalWeight));
        }
        return { loss, terms, logits: adversarial.logits, labels, accuracyOn: 'adversarial' };
      }, trainable);
    } finally {
      xAdv.dispose();
      teacherOut.logits.dispose();
      teacherOut.features?.dispose();
    }
  },
  /** Copies of W and the projection heads (those the configuration uses); caller disposes. */
  state({ variables }) {
    const out: Record<string, tf.Tensor> = {};
    for (const [key, variable] of Object.entries(variables)) out[key] = variable.clone();
    return out;
  },
  /** Restores `state()` after setup; shapes and the set of keys must match this configuration. */
  loadState({ variables }, state) {
    for (const key of Object.keys(state)) {
      if (!(key in variables)) {
        throw new ModelError(`crdnd state "${key}" does not belong to this configuration (expected ${Object.keys(variables).join(', ') || 'none'})`);
      }
    }
    for (const [key, variable] of Object.entries(variables)) {
      const value = state[key];
      if (!value) throw new ModelError(`crdnd state is missing "${key}"`);
      if (value.shape.join('x') !== variable.shape.join('x')) {
        throw new ModelError(`crdnd state "${key}" has shape [${value.shape.join(', ')}], expected [${variable.shape.join(', ')}]`);
      }
      variable.assign(value);
    }
  },
});
