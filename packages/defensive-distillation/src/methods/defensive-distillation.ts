import * as tf from '@tensorflow/tfjs';
import { inject, injectable } from 'tsyringe';
import { ConfigError, TOKENS, assertCompatible, defineParams, optimizeStep, softmaxAt } from '@tempered/core';
import type {
  Dataset,
  DistillationMethod,
  LossContext,
  MethodSetup,
  Model,
  ParamValues,
  PhaseContext,
  Student,
  TrainingBatch,
  StepContext,
  StepLoss,
  StepResult,
  TrainingPhase,
} from '@tempered/core';
import { CeAtTemperatureLoss } from '../losses/ce-at-temperature.js';
import { SoftCeAtTemperatureLoss } from '../losses/soft-ce-at-temperature.js';
import { OPTIMIZER_SETTINGS, optimizerFrom } from '../training-params.js';
import { Parameterised } from '../parameterised.js';

export const DEFENSIVE_DISTILLATION_PARAMS = defineParams({
  temperature: { type: 'number', default: 20, greaterThan: 0, description: 'Distillation temperature T of both phases (the paper sweeps 1–100; 20 for MNIST)' },
  teacherEpochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Epochs of the teacher phase (the paper: 50 on MNIST)' },
  epochs: { type: 'number', default: 50, min: 1, integer: true, description: 'Epochs of the student phase (the paper: 50 on MNIST)' },
  ...OPTIMIZER_SETTINGS,
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

/** Key of the soft labels in {@link DefensiveDistillation.state}. */
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
 * 2. `teacher` (skipped with `reuseTeacher`): a fresh model of the student's architecture (from
 *    `setup.createModel`) is trained with cross-entropy of softmax(z/T) on the hard labels.
 * 3. `student`: `beforePhase` relabels the training set with the teacher's softmax(z/T), stored
 *    by example index (computed in batches of the run's batch size, in inference mode, so it is
 *    deterministic and idempotent: a resume recomputes exactly the same labels from the
 *    checkpointed teacher); then the student, of the same architecture, is trained at T on those
 *    soft labels (mixed with the hard labels when `hardLabelWeight` > 0).
 *
 * Deployment is at T = 1: the models have no softmax layer, so {@link result} is the student and
 * its logits are used as they are. Because the student learned logits about T times larger than
 * a normally trained model, its softmax at T = 1 saturates and the input gradients of the softmax
 * (and of the cross-entropy) vanish: that is the paper's effect, and it is gradient masking, not
 * robustness: attacks on the logits (Carlini & Wagner 2016) still succeed.
 *
 * Parameters (defaults): `temperature` 20 (> 0), `teacherEpochs` 50, `epochs` 50,
 * `optimizer` 'adam' | 'sgd' | 'momentum' ('adam'), `learningRate` 1e-3, `momentum` 0.9,
 * `hardLabelWeight` 0 (∈ [0, 1]), `sharedInit` false, `reuseTeacher` false.
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
 * const teacher = (method as DefensiveDistillation).teacherModel();
 * ```
 */
@injectable()
export class DefensiveDistillation extends Parameterised<typeof DEFENSIVE_DISTILLATION_PARAMS> implements DistillationMethod {
  readonly teacher = 'optional' as const;
  private student: Student | undefined;
  private ownTeacher: Student | undefined;
  private labeller: Model | undefined;
  private phaseList: TrainingPhase[] = [];
  private optimizers: tf.Optimizer[] = [];
  private softLabels: Float32Array | undefined;
  private restoredSoftLabels: Float32Array | undefined;
  private numClasses = 0;
  private readonly hardLoss = new CeAtTemperatureLoss({});
  private readonly softLoss = new SoftCeAtTemperatureLoss({});

  /** Parameters are validated here and in `setParams` (they take effect at the next {@link setup}). */
  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    super('defensive-distillation', DEFENSIVE_DISTILLATION_PARAMS, params);
  }

  /** Only with `reuseTeacher` does the run's teacher label the data; otherwise the method trains its own. */
  usesTeacher(): boolean {
    return this.values.reuseTeacher;
  }

  setup(setup: MethodSetup): void {
    this.release();
    const p = this.values;
    if (p.reuseTeacher && !setup.teacher) {
      throw new ConfigError(`${this.name}.reuseTeacher`, 'expected the run to supply a teacher to relabel with, but it has none');
    }
    if (p.reuseTeacher && p.sharedInit) {
      throw new ConfigError(`${this.name}.sharedInit`, 'cannot be combined with reuseTeacher (there is no teacher training to share an initialisation with)');
    }
    const student = setup.student;
    this.student = student;
    this.numClasses = student.numClasses;
    if (p.reuseTeacher) {
      assertCompatible(setup.teacher!, student);
      this.labeller = setup.teacher!;
    } else {
      this.ownTeacher = setup.createModel(`${student.name}-teacher`);
      assertCompatible(this.ownTeacher, student);
      this.labeller = this.ownTeacher;
    }

    const phases: TrainingPhase[] = [];
    if (p.sharedInit) {
      const teacher = this.ownTeacher!;
      const optimizer = this.newOptimizer();
      phases.push({
        name: 'init',
        model: student,
        epochs: 1,
        optimizer,
        // Cross-entropy at T = 1, as Carlini & Wagner's reference code trains its "_init" model.
        trainStep: (batch, context) => this.hardLabelStep(student, optimizer, 1, batch, context),
        // afterPhase, not the teacher's beforePhase: a resume inside the teacher phase must not
        // reset the teacher to the initial weights.
        afterPhase: () => copyWeights(student, teacher),
      });
    }
    if (this.ownTeacher) {
      const teacher = this.ownTeacher;
      const optimizer = this.newOptimizer();
      phases.push({
        name: 'teacher',
        model: teacher,
        epochs: p.teacherEpochs,
        optimizer,
        trainStep: (batch, context) => this.hardLabelStep(teacher, optimizer, p.temperature, batch, context),
      });
    }
    const optimizer = this.newOptimizer();
    phases.push({
      name: 'student',
      model: student,
      epochs: p.epochs,
      optimizer,
      beforePhase: (context) => this.relabel(context),
      trainStep: (batch, context) => this.studentStep(student, optimizer, batch, context),
    });
    this.phaseList = phases;
  }

  phases(): readonly TrainingPhase[] {
    return this.phaseList;
  }

  result(): Student {
    if (!this.student) throw new ConfigError(this.name, 'result() called before setup()');
    return this.student;
  }

  /** The model whose softmax(z/T) relabels the data: the trained teacher, or the run's teacher with `reuseTeacher`. */
  teacherModel(): Model | undefined {
    return this.labeller;
  }

  /** A copy of the soft labels [trainSize, numClasses] once the student phase has computed them. */
  softLabelsTensor(): tf.Tensor2D | undefined {
    const labels = this.softLabels;
    return labels ? tf.tensor2d(labels, [labels.length / this.numClasses, this.numClasses]) : undefined;
  }

  /**
   * The soft labels, when computed. A resume does not need them (the student phase recomputes
   * them from the checkpointed teacher, bit for bit) but a restored copy is used as is, so the
   * student keeps training on exactly the labels it started with.
   */
  state(): Record<string, tf.Tensor> {
    const labels = this.softLabelsTensor();
    return labels ? { [SOFT_LABELS_STATE_KEY]: labels } : {};
  }

  loadState(state: Record<string, tf.Tensor>): void {
    const labels = state[SOFT_LABELS_STATE_KEY];
    if (!labels) return;
    if (labels.rank !== 2 || labels.shape[1] !== this.numClasses) {
      throw new ConfigError(`${this.name}.state.${SOFT_LABELS_STATE_KEY}`, `expected shape [size, ${this.numClasses}], got [${labels.shape.join(', ')}]`);
    }
    this.restoredSoftLabels = Float32Array.from(labels.dataSync());
  }

  dispose(): void {
    this.release();
  }

  private release(): void {
    for (const optimizer of this.optimizers) optimizer.dispose();
    this.optimizers = [];
    this.ownTeacher?.dispose();
    this.ownTeacher = undefined;
    this.labeller = undefined;
    this.student = undefined;
    this.phaseList = [];
    this.softLabels = undefined;
    this.restoredSoftLabels = undefined;
  }

  private newOptimizer(): tf.Optimizer {
    const optimizer = optimizerFrom(this.name, this.values);
    this.optimizers.push(optimizer);
    return optimizer;
  }

  /** Cross-entropy of softmax(z/T) on the hard labels (teacher phase, and the init epoch at T = 1). */
  private hardLabelStep(model: Model, optimizer: tf.Optimizer, temperature: number, batch: TrainingBatch, context: StepContext): StepResult {
    return optimizeStep(optimizer, model.trainableVariables(), () => {
      const logits = model.logits(batch.x, { training: true });
      const loss = this.hardLoss.compute(lossContext(batch, logits, temperature, context));
      return { loss, terms: { ce: loss }, logits, labels: batch.labels, accuracyOn: 'clean' };
    });
  }

  private studentStep(student: Student, optimizer: tf.Optimizer, batch: TrainingBatch, context: StepContext): StepResult {
    const softLabels = this.softLabels;
    if (!softLabels) throw new ConfigError(this.name, 'the student phase ran without soft labels (beforePhase was skipped)');
    const targets = gatherRows(softLabels, this.numClasses, batch.indices);
    const { temperature, hardLabelWeight } = this.values;
    try {
      return optimizeStep(optimizer, student.trainableVariables(), (): StepLoss => {
        const logits = student.logits(batch.x, { training: true });
        const lossInput: LossContext = { ...lossContext(batch, logits, temperature, context), softTargets: targets };
        const soft = this.softLoss.compute(lossInput);
        if (hardLabelWeight === 0) return { loss: soft, terms: { softCe: soft }, logits, labels: batch.labels, accuracyOn: 'clean' };
        const hard = this.hardLoss.compute(lossInput);
        const loss = tf.add(tf.mul(1 - hardLabelWeight, soft), tf.mul(hardLabelWeight, hard)) as tf.Scalar;
        return { loss, terms: { softCe: soft, hardCe: hard }, logits, labels: batch.labels, accuracyOn: 'clean' };
      });
    } finally {
      targets.dispose();
    }
  }

  /** The teacher's softmax(z/T) for every training example, by index; deterministic and idempotent. */
  private relabel(context: PhaseContext): void {
    const expected = context.train.size * this.numClasses;
    const restored = this.restoredSoftLabels;
    this.restoredSoftLabels = undefined;
    if (restored && restored.length === expected) {
      this.softLabels = restored;
      return;
    }
    this.softLabels = softLabelsOf(this.labeller!, context.train, this.values.temperature, context.batchSize);
  }
}

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
