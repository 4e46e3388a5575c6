import * as tf from '@tensorflow/tfjs';
import { ConfigError, defineMethod, defineParams, softmaxAt } from '@tempered/core';
import type { Dataset, LossContext, MethodStep, Model, ParamValues, PhaseHook, StepContext, StepLoss, StepResult, TrainingBatch } from '@tempered/core';
import { CeAtTemperatureLoss } from '../losses/ce-at-temperature.js';
import { SoftCeAtTemperatureLoss } from '../losses/soft-ce-at-temperature.js';

export const DEFENSIVE_DISTILLATION_PARAMS = defineParams({
  temperature: { type: 'number', default: 20, greaterThan: 0, description: 'Distillation temperature T of both phases (the paper sweeps 1–100; 20 for MNIST)' },
  teacherEpochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Epochs of the teacher phase (the paper: 50 on MNIST)' },
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Epochs of the student phase (the paper: 50 on MNIST)' },
  hardLabelWeight: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'Weight α of the hard-label cross-entropy at T in the student loss (1 − α weighs the soft labels)',
  },
  sharedInit: {
    type: 'boolean',
    default: false,
    description: 'Carlini & Wagner’s variant: one epoch of cross-entropy at T = 1 first, and both teacher and student start from it',
  },
  reuseTeacher: {
    type: 'boolean',
    default: false,
    description: 'Relabel with the run’s teacher at T instead of training one (skips the teacher phase; the run must supply a teacher)',
  },
});

export type DefensiveDistillationParams = ParamValues<typeof DEFENSIVE_DISTILLATION_PARAMS>;

/** Key of the soft labels in the method's checkpointed `state()`. */
export const SOFT_LABELS_STATE_KEY = 'softLabels';

/**
 * Defensive distillation (Papernot, McDaniel, Wu, Jha & Swami 2016, "Distillation as a Defense
 * to Adversarial Perturbations against Deep Neural Networks", IEEE S&P).
 *
 * Loss: phase "teacher" `CE(softmax(z_teacher/T), y)`; phase "student"
 * `(1 − α) · −Σ p·log softmax(z/T) + α · CE(softmax(z/T), y)` with p = softmax(z_teacher/T).
 *
 * Phases, in order:
 * 1. `init` (only with `sharedInit`): one epoch of cross-entropy at T = 1 on the hard labels,
 *    training the *student* model; afterwards its weights are copied into the teacher. So the
 *    teacher (phase 2) and the student (phase 3) both start from this one-epoch model, as in
 *    Carlini & Wagner's `train_distillation` (which calls `train(..., 1)` with `train_temp=1`).
 * 2. `teacher` (skipped with `reuseTeacher`): the method's own teacher, a fresh model of the
 *    student's architecture (`ownTeacher`), is trained with cross-entropy of softmax(z/T) on the hard labels.
 * 3. `student`: `beforePhase` relabels the training set with the teacher's softmax(z/T), stored
 *    by example index (computed in batches of the run's batch size, in inference mode, so it is
 *    deterministic and idempotent: a resume recomputes exactly the same labels from the
 *    checkpointed teacher); then the student, of the same architecture, is trained at T on those
 *    soft labels (mixed with the hard labels when `hardLabelWeight` > 0).
 *
 * Deployment is at T = 1: the models have no softmax layer, so `result()` is the student and
 * its logits are used as they are. Because the student learned logits about T times larger than
 * a normally trained model, its softmax at T = 1 saturates and the input gradients of the softmax
 * (and of the cross-entropy) vanish: that is the paper's effect, and it is gradient masking, not
 * robustness: attacks on the logits (Carlini & Wagner 2016) still succeed.
 *
 * Parameters (defaults): `temperature` 20 (> 0), `teacherEpochs` 50, `epochs` 50,
 * `hardLabelWeight` 0 (∈ [0, 1]), `sharedInit` false, `reuseTeacher` false; core's `optimizer`
 * (Adam 1e-3; each phase gets its own, with its own moments) and `schedule` (constant), shared
 * by the phases. Written with core's `defineMethod` (three phases, a teacher of its own).
 *
 * Shapes: inputs [batch, ...inputShape]; logits and soft labels [batch, numClasses]; the stored
 * soft labels (and `state().softLabels`) are [trainSize, numClasses].
 *
 * @example
 * ```ts
 * const method = createPlugin(container, TOKENS.Method, 'defensive-distillation', { temperature: 20, teacherEpochs: 10, epochs: 10 });
 * await method.setup({ student, createModel, train, batchSize: 128, seed: 1, container });
 * await new Trainer().run(method, { model: 'dd-t20', train, batchSize: 128, seed: 1 });
 * const deployed = method.result();            // evaluate at T = 1 (raw logits)
 * const teacher = method.teacherModel!();      // the teacher it trained
 * ```
 */
/** What the phases share: the soft labels (computed before the student phase, or restored) and the losses. */
interface Prepared {
  readonly numClasses: number;
  readonly hardLoss: CeAtTemperatureLoss;
  readonly softLoss: SoftCeAtTemperatureLoss;
  softLabels?: Float32Array;
  restoredSoftLabels?: Float32Array;
}

type Step = MethodStep<DefensiveDistillationParams, never, Prepared, 'optional'>;

/** Cross-entropy of softmax(z/T) on the hard labels (teacher phase, and the init epoch at T = 1). */
function hardLabelStep({ batch, step, model, prepared, minimize }: Step, temperature: number): StepResult {
  return minimize(() => {
    const logits = model.logits(batch.x, { training: true });
    const loss = prepared.hardLoss.compute(lossContext(batch, logits, temperature, step));
    return { loss, terms: { ce: loss }, logits, labels: batch.labels, accuracyOn: 'clean' };
  });
}

function studentStep({ batch, step, params, student, prepared, minimize }: Step): StepResult {
  const softLabels = prepared.softLabels;
  if (!softLabels) throw new ConfigError('defensive-distillation', 'the student phase ran without soft labels (beforePhase was skipped)');
  const targets = gatherRows(softLabels, prepared.numClasses, batch.indices);
  const { temperature, hardLabelWeight } = params;
  try {
    return minimize((): StepLoss => {
      const logits = student.logits(batch.x, { training: true });
      const lossInput: LossContext = { ...lossContext(batch, logits, temperature, step), softTargets: targets };
      const soft = prepared.softLoss.compute(lossInput);
      if (hardLabelWeight === 0) return { loss: soft, terms: { softCe: soft }, logits, labels: batch.labels, accuracyOn: 'clean' };
      const hard = prepared.hardLoss.compute(lossInput);
      const loss = tf.add(tf.mul(1 - hardLabelWeight, soft), tf.mul(hardLabelWeight, hard)) as tf.Scalar;
      return { loss, terms: { softCe: soft, hardCe: hard }, logits, labels: batch.labels, accuracyOn: 'clean' };
    });
  } finally {
    targets.dispose();
  }
}

/** The teacher's softmax(z/T) for every training example, by index; deterministic and idempotent. */
function relabel({ train, batchSize, params, teacher, prepared }: PhaseHook<DefensiveDistillationParams, Prepared>): void {
  const expected = train.size * prepared.numClasses;
  const restored = prepared.restoredSoftLabels;
  prepared.restoredSoftLabels = undefined;
  if (restored && restored.length === expected) {
    prepared.softLabels = restored;
    return;
  }
  prepared.softLabels = softLabelsOf(teacher!, train, params.temperature, batchSize);
}

export const DEFENSIVE_DISTILLATION = defineMethod({
  name: 'defensive-distillation',
  description: 'Papernot et al. 2016: teacher at T on hard labels, student at T on its soft labels, deployed at T = 1',
  teacher: 'optional',
  adversarial: false,
  params: DEFENSIVE_DISTILLATION_PARAMS,
  /** Only with `reuseTeacher` does the run's teacher label the data; otherwise the method trains its own. */
  usesTeacher: (p) => p.reuseTeacher,
  ownTeacher: (p) => !p.reuseTeacher,
  prepare({ student, teacher }, p): Prepared {
    if (p.reuseTeacher && !teacher) {
      throw new ConfigError('defensive-distillation.reuseTeacher', 'expected the run to supply a teacher to relabel with, but it has none');
    }
    if (p.reuseTeacher && p.sharedInit) {
      throw new ConfigError('defensive-distillation.sharedInit', 'cannot be combined with reuseTeacher (there is no teacher training to share an initialisation with)');
    }
    return { numClasses: student.numClasses, hardLoss: new CeAtTemperatureLoss({}), softLoss: new SoftCeAtTemperatureLoss({}) };
  },
  phases: [
    {
      name: 'init',
      trains: 'student',
      when: (p) => p.sharedInit,
      epochs: () => 1,
      // Cross-entropy at T = 1, as Carlini & Wagner's reference code trains its "_init" model.
      step: (context) => hardLabelStep(context, 1),
      // After this phase, not before the teacher's: a resume inside the teacher phase must not
      // reset the teacher to the initial weights.
      after: ({ student, teacher }) => copyWeights(student, teacher!),
    },
    {
      name: 'teacher',
      trains: 'teacher',
      when: (p) => !p.reuseTeacher,
      epochs: (p) => p.teacherEpochs,
      step: (context) => hardLabelStep(context, context.params.temperature),
    },
    { name: 'student', trains: 'student', before: relabel, step: studentStep },
  ],
  /**
   * The soft labels, when computed. A resume does not need them (the student phase recomputes
   * them from the checkpointed teacher, bit for bit) but a restored copy is used as is, so the
   * student keeps training on exactly the labels it started with.
   */
  state({ softLabels, numClasses }): Record<string, tf.Tensor> {
    return softLabels ? { [SOFT_LABELS_STATE_KEY]: tf.tensor2d(softLabels, [softLabels.length / numClasses, numClasses]) } : {};
  },
  loadState(prepared, state) {
    const labels = state[SOFT_LABELS_STATE_KEY];
    if (!labels) return;
    if (labels.rank !== 2 || labels.shape[1] !== prepared.numClasses) {
      throw new ConfigError(`defensive-distillation.state.${SOFT_LABELS_STATE_KEY}`, `expected shape [size, ${prepared.numClasses}], got [${labels.shape.join(', ')}]`);
    }
    prepared.restoredSoftLabels = Float32Array.from(labels.dataSync());
  },
});

/**
 * softmax(logits / T) of `model` (inference mode) over the whole dataset, computed in batches of
 * `batchSize`; a flat [size × numClasses] array indexed by example.
 */
export function softLabelsOf(model: Model, data: Dataset, temperature: number, batchSize: number): Float32Array {
  const classes = model.numClasses;
  const out = new Float32Array(data.size * classes);
  const step = Math.max(1, Math.floor(batchSize));
  for (let start = 0; start < data.size; start += step) {
    const count = Math.min(step, data.size - start);
    const indices = Int32Array.from({ length: count }, (_, i) => start + i);
    const { x, labels } = data.batch(indices);
    try {
      const probs = tf.tidy(() => softmaxAt(model.logits(x, { training: false }), temperature));
      out.set(probs.dataSync(), start * classes);
      probs.dispose();
    } finally {
      x.dispose();
      labels.dispose();
    }
  }
  return out;
}

/** Rows `indices` of a flat [n × columns] array as a [indices.length, columns] tensor. */
function gatherRows(flat: Float32Array, columns: number, indices: ArrayLike<number>): tf.Tensor2D {
  const rows = new Float32Array(indices.length * columns);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    rows.set(flat.subarray(index * columns, (index + 1) * columns), i * columns);
  }
  return tf.tensor2d(rows, [indices.length, columns]);
}

function lossContext(batch: TrainingBatch, logits: tf.Tensor2D, temperature: number, context: StepContext): LossContext {
  return { x: batch.x, labels: batch.labels, student: { logits }, temperature, epoch: context.epoch, step: context.step };
}

/** Copies every weight (trainable or not) of `from` into `to`; same architecture required. */
function copyWeights(from: Model, to: Model): void {
  const weights = from.getWeights();
  try {
    to.setWeights(weights);
  } finally {
    for (const w of weights) w.dispose();
  }
}
