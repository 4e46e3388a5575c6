/**
 * RSLAD as an outside plugin (Zi, Zhao, Ma & Jiang 2021, "Revisiting Adversarial Robustness
 * Distillation: Robust Soft Labels Make Student Better", ICCV). Uses only @tempered/core's
 * public API and registers by name, like any method package.
 *
 * `L = 5/6·KL(T(x) ‖ S(x′)) + 1/6·KL(T(x) ‖ S(x))` at T = 1 (the robust teacher's soft labels),
 * x′ = PGD on the student maximising KL(T(x) ‖ S(x′)) from x + 0.001·N(0, I).
 * KL direction: the paper writes KL(S(x′), T(x)), but its code calls
 * `nn.KLDivLoss()(log_softmax(S), softmax(T))`, which computes Σ p_T log(p_T / p_S): the
 * teacher's distribution comes first, as in ARD. `klDirection: 'student-teacher'` gives the
 * literal Σ p_S log(p_S / p_T) for comparison.
 *
 * Parameters (MNIST defaults; the paper's CIFAR-10 values in brackets): `epsilon` 0.3 [8/255],
 * `stepSize` 0.05 [2/255], `steps` 10 [10], `adversarialWeight` 5/6 [5/6], `klDirection`
 * 'teacher-student', `epochs` 10 [300], `learningRate` 1e-3 (Adam) [SGD 0.1].
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes].
 *
 * @example
 * ```ts
 * register(container);
 * const rslad = createPlugin(container, TOKENS.Method, 'rslad', { epsilon: 0.3 });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { inject, injectable, type DependencyContainer } from 'tsyringe';
import {
  ConfigError, TOKENS, classPlugin, createOptimizer, defineParams, klDivergence, optimizeStep, registerPlugin,
  softmaxAt, validateParams, type DistillationMethod, type MethodSetup, type ParamValues, type Rng,
  type StepContext, type StepResult, type Student, type Teacher, type TrainingBatch, type TrainingPhase,
} from '@tempered/core';

export const RSLAD_PARAMS = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'L∞ budget ε (CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step (CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  adversarialWeight: { type: 'number', default: 5 / 6, min: 0, max: 1, description: 'Weight of KL on x′; 1 − it weights KL on x' },
  klDirection: { type: 'enum', values: ['teacher-student', 'student-teacher'], default: 'teacher-student', description: 'KL(T ‖ S) as the authors’ code, or KL(S ‖ T)' },
  epochs: { type: 'number', default: 10, integer: true, min: 1, description: 'Training epochs' },
  learningRate: { type: 'number', default: 1e-3, greaterThan: 0, description: 'Adam learning rate' },
});
type RsladParams = ParamValues<typeof RSLAD_PARAMS>;

/** Batch-mean KL between the teacher's probabilities and softmax(studentLogits), in `direction`. */
function rsladKl(teacherProbs: tf.Tensor2D, studentLogits: tf.Tensor2D, direction: RsladParams['klDirection']): tf.Scalar {
  if (direction === 'teacher-student') return klDivergence(teacherProbs, studentLogits);
  return tf.tidy(() => {
    const logStudent = tf.logSoftmax(studentLogits);
    return tf.mean(tf.sum(tf.mul(tf.exp(logStudent), tf.sub(logStudent, tf.log(tf.maximum(teacherProbs, 1e-12)))), 1)) as tf.Scalar;
  });
}

@injectable()
export class RsladMethod implements DistillationMethod {
  readonly name = 'rslad';
  readonly teacher = 'required' as const;
  private readonly values: RsladParams;
  private run?: { student: Student; teacher: Teacher; optimizer: tf.Optimizer; phase: TrainingPhase };

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown>) {
    this.values = validateParams('rslad', RSLAD_PARAMS, params);
  }

  setup({ student, teacher }: MethodSetup): void {
    if (!teacher) throw new ConfigError('rslad.teacher', 'RSLAD needs a (robust) teacher');
    const optimizer = createOptimizer({ learningRate: this.values.learningRate }, 'rslad.optimizer');
    const phase = { name: 'student', model: student, epochs: this.values.epochs, optimizer, trainStep: (b: TrainingBatch, c: StepContext) => this.step(b, c) };
    this.run = { student, teacher, optimizer, phase };
  }

  /** PGD (student in inference mode) maximising the KL to the teacher's soft labels. */
  private adversarial(student: Student, x: tf.Tensor, teacherProbs: tf.Tensor2D, rng: Rng): tf.Tensor {
    const { epsilon, stepSize, steps, klDirection } = this.values;
    const { min, max } = student.bounds;
    const gradient = tf.grad((input: tf.Tensor) => rsladKl(teacherProbs, student.logits(input), klDirection));
    let xAdv = tf.tidy(() => tf.add(x, tf.tensor(rng.normalArray(x.size).map((v) => 0.001 * v), x.shape)));
    for (let i = 0; i < steps; i++) {
      const next = tf.tidy(() => {
        const moved = tf.add(xAdv, tf.mul(tf.sign(gradient(xAdv)), stepSize));
        return tf.clipByValue(tf.add(x, tf.clipByValue(tf.sub(moved, x), -epsilon, epsilon)), min, max);
      });
      xAdv.dispose();
      xAdv = next;
    }
    return xAdv;
  }

  private step({ x, labels }: TrainingBatch, context: StepContext): StepResult {
    const { student, teacher, optimizer } = this.ready();
    const { adversarialWeight: w, klDirection } = this.values;
    const teacherProbs = tf.tidy(() => softmaxAt(teacher.logits(x)));
    const xAdv = this.adversarial(student, x, teacherProbs, context.rng);
    try {
      return optimizeStep(optimizer, student.trainableVariables(), () => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialKl = rsladKl(teacherProbs, adversarialLogits, klDirection);
        const naturalKl = rsladKl(teacherProbs, student.logits(x, { training: true }), klDirection);
        const loss = tf.add(tf.mul(adversarialKl, w), tf.mul(naturalKl, 1 - w)) as tf.Scalar;
        return { loss, terms: { adversarialKl, naturalKl }, logits: adversarialLogits, labels };
      });
    } finally {
      xAdv.dispose();
      teacherProbs.dispose();
    }
  }

  private ready() {
    if (!this.run) throw new ConfigError('rslad.setup', 'call setup() before training');
    return this.run;
  }
  phases = (): readonly TrainingPhase[] => [this.ready().phase];
  result = (): Student => this.ready().student;
  params = (): Record<string, unknown> => ({ ...this.values });
  dispose(): void {
    this.run?.optimizer.dispose();
    this.run = undefined;
  }
}

/** Registers `rslad` under TOKENS.Method; the CLI calls this for each module under `plugins:`. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Method, classPlugin('rslad', RsladMethod, { description: 'RSLAD (Zi et al. 2021): robust soft labels', params: RSLAD_PARAMS }));
}
