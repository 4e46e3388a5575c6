import * as tf from '@tensorflow/tfjs';
import { cw, fgsm, pgd } from '@tempered/attacks';

/**
 * The attacks the browser spec runs, with the same code and settings in the page (bundled) and
 * in Node: FGSM, seeded PGD with a random start, and C&W L2.
 */
export const SUITE_SETTINGS = {
  fgsm: { epsilon: 0.2 },
  pgd: { epsilon: 0.2, stepSize: 0.03, steps: 10, randomStart: true, seed: 7 },
  cw: { binarySearchSteps: 2, maxIterations: 30 },
} as const;

export type SuiteAttack = keyof typeof SUITE_SETTINGS;

export interface SuiteOutput {
  readonly backend: string;
  readonly clean: number[];
  /** Clean logits, flattened [n, numClasses]. */
  readonly logits: number[];
  readonly attacks: Record<SuiteAttack, { adversarial: number[]; predictions: number[] }>;
}

function predict(model: tf.LayersModel, x: tf.Tensor): number[] {
  return tf.tidy(() => Array.from((tf.argMax(model.predict(x) as tf.Tensor2D, 1) as tf.Tensor1D).dataSync()));
}

/** Runs every suite attack on `model` for the batch `pixels` (shape `[n, ...inputShape]`). */
export async function runAttackSuite(model: tf.LayersModel, pixels: number[], labels: number[], inputShape: number[]): Promise<SuiteOutput> {
  const x = tf.tensor(pixels, [labels.length, ...inputShape]);
  const y = tf.tensor1d(labels, 'int32');
  const attacks = {} as Record<SuiteAttack, { adversarial: number[]; predictions: number[] }>;
  try {
    for (const [name, run] of [
      ['fgsm', () => fgsm(model, x, y, SUITE_SETTINGS.fgsm)],
      ['pgd', () => pgd(model, x, y, SUITE_SETTINGS.pgd)],
      ['cw', () => cw(model, x, y, SUITE_SETTINGS.cw)],
    ] as const) {
      const adversarial = await run();
      attacks[name] = { adversarial: Array.from(await adversarial.data()), predictions: predict(model, adversarial) };
      adversarial.dispose();
    }
    const logits = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    return { backend: tf.getBackend(), clean: predict(model, x), logits, attacks };
  } finally {
    x.dispose();
    y.dispose();
  }
}
