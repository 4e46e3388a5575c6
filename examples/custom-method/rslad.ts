/**
 * RSLAD as an outside plugin (Zi, Zhao, Ma & Jiang 2021, "Revisiting Adversarial Robustness
 * Distillation: Robust Soft Labels Make Student Better", ICCV), written with core's `defineMethod`.
 *
 * `L = w·KL(T(x) ‖ S(x′)) + (1 − w)·KL(T(x) ‖ S(x))` at T = 1 (the robust teacher's soft labels),
 * x′ = PGD on the student (inference mode) maximising KL(T(x) ‖ S(x′)) from x + 0.001·N(0, I).
 * KL direction: the paper writes KL(S(x′), T(x)), but its code calls
 * `nn.KLDivLoss()(log_softmax(S), softmax(T))`, i.e. Σ p_T log(p_T / p_S), teacher first as in ARD.
 * The KL is the loss slot `kl`: `klLoss: <registered loss>` replaces it in both terms.
 *
 * Parameters (MNIST defaults; the paper's CIFAR-10 values in brackets): `epsilon` 0.3 [8/255],
 * `stepSize` 0.05 [2/255], `steps` 10 [10], `adversarialWeight` 5/6 [5/6], `klLoss` 'rslad.kl',
 * `epochs` 10 [300], `optimizer` 'adam', `learningRate` 1e-3 [SGD 0.1].
 * Shapes: inputs [batch, ...inputShape], logits [batch, classes].
 *
 * @example
 * ```ts
 * register(container);
 * const rslad = createPlugin(container, TOKENS.Method, 'rslad', { epsilon: 0.3 });
 * ```
 */
import * as tf from '@tensorflow/tfjs';
import { klPgd } from '@tempered/attacks';
import { defineMethod, defineParams, klDivergence, softmaxAt, type LossContext } from '@tempered/core';

export const RSLAD_PARAMS = defineParams({
  epsilon: { type: 'number', default: 0.3, min: 0, description: 'L∞ budget ε (CIFAR-10: 8/255)' },
  stepSize: { type: 'number', default: 0.05, greaterThan: 0, description: 'PGD step (CIFAR-10: 2/255)' },
  steps: { type: 'number', default: 10, integer: true, min: 1, description: 'PGD iterations' },
  adversarialWeight: { type: 'number', default: 5 / 6, min: 0, max: 1, description: 'Weight of KL on x′; 1 − it weights KL on x' },
});

/** KL(T ‖ S): the teacher's soft labels first, as the authors' code. */
const teacherStudentKl = ({ teacher, student }: Partial<LossContext>): tf.Scalar =>
  tf.tidy(() => klDivergence(softmaxAt(teacher!.logits), student!.logits));

export const RSLAD = defineMethod({
  name: 'rslad',
  description: 'RSLAD (Zi et al. 2021): robust soft labels',
  teacher: 'required',
  params: RSLAD_PARAMS,
  losses: { kl: teacherStudentKl },
  step({ batch: { x, labels }, step, params, student, teacher, losses, minimize }) {
    const { epsilon, stepSize, steps, adversarialWeight: w } = params;
    const teacherOutputs = { logits: tf.tidy(() => teacher.logits(x)) };
    const walk = { norm: 'linf', epsilon, stepSize, steps, randomStart: true } as const;
    const xAdv = klPgd(student, teacherOutputs.logits, x, walk, step.rng, { start: 'gaussian' });
    try {
      return minimize(() => {
        const adversarialLogits = student.logits(xAdv, { training: true });
        const adversarialKl = losses.kl({ teacher: teacherOutputs, student: { logits: adversarialLogits } });
        const naturalKl = losses.kl({ teacher: teacherOutputs, student: { logits: student.logits(x, { training: true }) } });
        const loss = tf.add(tf.mul(adversarialKl, w), tf.mul(naturalKl, 1 - w)) as tf.Scalar;
        return { loss, terms: { adversarialKl, naturalKl }, logits: adversarialLogits, labels, accuracyOn: 'adversarial' };
      });
    } finally {
      xAdv.dispose();
      teacherOutputs.logits.dispose();
    }
  },
});
