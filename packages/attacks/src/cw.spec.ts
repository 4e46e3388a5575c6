import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { expectNoLeaks } from '@tempered/core/testing';
import { CarliniWagnerL2, cw } from './cw.js';
import { Fgsm } from './fgsm.js';
import { Pgd } from './pgd.js';
import { attackRecords } from './records.js';
import { linearModel, linearProblem, predict, randomMlp, uniformInputs } from './spec-fixtures.js';

const D = 8;
const BATCH = 12;

/** Examples whose closest boundary point x + d·u (u = ±(w₁−w₀)/‖·‖) lies inside [0, 1]: there d is the exact minimum. */
function interiorDistances(problem: ReturnType<typeof linearProblem>, weightsDelta: number[]): { distance: number; interior: boolean }[] {
  return problem.margins.map((m, i) => {
    const distance = m / problem.l2;
    const direction = problem.labels[i] === 0 ? 1 : -1;
    let interior = true;
    for (let j = 0; j < D; j++) {
      const v = problem.xs[i * D + j]! + (direction * distance * weightsDelta[j]!) / problem.l2;
      if (v < 0.01 || v > 0.99) interior = false;
    }
    return { distance, interior };
  });
}

function deltaWeights(seed: number): number[] {
  // Re-derive w₁ − w₀ from the model itself: logits differences along unit vectors.
  const { model } = linearProblem(seed);
  return tf.tidy(() => {
    const z = model.logits(tf.concat([tf.zeros([1, D]), tf.eye(D)]));
    const values = z.arraySync() as number[][];
    return Array.from({ length: D }, (_, j) => values[j + 1]![1]! - values[j + 1]![0]! - (values[0]![1]! - values[0]![0]!));
  });
}

describe('Carlini & Wagner L2', () => {
  it('finds the exact distance to a linear decision boundary within 5 %', async () => {
    await expectNoLeaks(async () => {
      let checked = 0;
      for (const seed of [3, 4]) {
        const problem = linearProblem(seed);
        const geometry = interiorDistances(problem, deltaWeights(seed));
        const x = tf.tensor2d(problem.xs, [BATCH, D]);
        const y = tf.tensor1d(problem.labels, 'int32');
        const attack = new CarliniWagnerL2({ binarySearchSteps: 8, maxIterations: 300, learningRate: 0.01 });
        const adversarial = await attack.generate(problem.model, x, y);
        const records = attackRecords(problem.model, x, adversarial, y);
        records.forEach((r, i) => {
          const { distance, interior } = geometry[i]!;
          if (r.success) expect(r.l2).toBeGreaterThanOrEqual(distance * (1 - 1e-3));
          if (!interior) return;
          expect(r.success, `seed ${seed} example ${i}`).toBe(true);
          expect(r.l2 / distance, `seed ${seed} example ${i}: l2 ${r.l2} vs distance ${distance}`).toBeLessThan(1.05);
          checked++;
        });
        tf.dispose([x, y, adversarial]);
      }
      expect(checked).toBeGreaterThanOrEqual(4);
    });
  });

  it('defeats a saturated (distilled-like) softmax on which cross-entropy gradients vanish', async () => {
    await expectNoLeaks(async () => {
      const seed = 5;
      const problem = linearProblem(seed);
      const geometry = interiorDistances(problem, deltaWeights(seed));
      // Logits × 10⁴ (what training at temperature T and deploying at T = 1 does): same boundary,
      // but softmax is exactly one-hot in float32, so ∇CE = 0 and FGSM/PGD-CE cannot move.
      const saturated = linearModel(
        tf.tidy(() => {
          const z = problem.model.logits(tf.concat([tf.zeros([1, D]), tf.eye(D)])).arraySync() as number[][];
          return [0, 1].map((c) => Array.from({ length: D }, (_, j) => z[j + 1]![c]! - z[0]![c]!));
        }),
        tf.tidy(() => Array.from(problem.model.logits(tf.zeros([1, D])).dataSync())),
        1e4,
      );
      const x = tf.tensor2d(problem.xs, [BATCH, D]);
      const y = tf.tensor1d(problem.labels, 'int32');
      const saturatedExample = problem.margins.map((m) => m * 1e4 > 200);
      const fgsmAdv = await new Fgsm({ epsilon: 0.3 }).generate(saturated, x, y);
      const pgdCe = await new Pgd({ epsilon: 0.3, randomStart: false }).generate(saturated, x, y);
      const pgdMargin = await new Pgd({ epsilon: 0.3, stepSize: 0.02, randomStart: false, loss: 'margin' }).generate(saturated, x, y);
      // The paper's small learning rate, for precision on logits scaled by 10⁴ (the default 0.1 trades it for speed).
      const cwAdv = await cw(saturated, x, y, { binarySearchSteps: 6, maxIterations: 200, learningRate: 0.01, initialConst: 0.01 });
      const [fgsmRecords, pgdCeRecords, pgdMarginRecords, cwRecords] = [fgsmAdv, pgdCe, pgdMargin, cwAdv].map((a) => attackRecords(saturated, x, a, y));
      const linf = problem.margins.map((m) => m / problem.l1);
      let checked = 0;
      for (let i = 0; i < BATCH; i++) {
        if (!saturatedExample[i]) continue;
        expect(fgsmRecords[i]!.l0, `FGSM moved example ${i}`).toBe(0);
        expect(pgdCeRecords[i]!.l0, `PGD-CE moved example ${i}`).toBe(0);
        if (linf[i]! < 0.28) expect(pgdMarginRecords[i]!.success, `PGD-margin example ${i}`).toBe(true);
        if (geometry[i]!.interior) {
          expect(cwRecords[i]!.success, `C&W example ${i}`).toBe(true);
          expect(cwRecords[i]!.l2 / geometry[i]!.distance).toBeLessThan(1.05);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(2);
      tf.dispose([x, y, fgsmAdv, pgdCe, pgdMargin, cwAdv]);
    });
  });

  it('targeted: every returned perturbation beats the target margin κ; a failure returns the input; an unreachable κ returns x', async () => {
    await expectNoLeaks(async () => {
      const model = randomMlp(9, D, 10, 3);
      const x = uniformInputs(10, 6, D, 0.1, 0.9);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const targets = tf.tensor1d(Array.from(predict(model, x), (p) => (p + 2) % 3), 'int32');
      const confidence = 0.5;
      const { adversarial, iterations } = await new CarliniWagnerL2({ confidence, binarySearchSteps: 4, maxIterations: 60 }).run(model, x, y, {
        mode: 'targeted',
        targets,
      });
      // Margins Z_t − max_{i≠t} Z_i, computed here from the logits, independently of the attack.
      const logits = tf.tidy(() => model.logits(adversarial).arraySync() as number[][]);
      const t = targets.dataSync();
      const changed = tf.tidy(() => tf.max(tf.abs(tf.sub(adversarial, x)), 1).dataSync());
      let perturbed = 0;
      logits.forEach((row, i) => {
        const margin = row[t[i]!]! - Math.max(...row.filter((_, k) => k !== t[i]));
        // C&W keeps an iterate only when it reaches the target with margin ≥ κ; otherwise x itself.
        if (changed[i]! > 0) {
          perturbed++;
          expect(margin, `example ${i}`).toBeGreaterThanOrEqual(confidence - 1e-4);
        }
        expect(iterations[i]).toBeGreaterThan(0);
      });
      expect(perturbed).toBeGreaterThan(0);
      const hopeless = await new CarliniWagnerL2({ confidence: 1e6, binarySearchSteps: 2, maxIterations: 10 }).generate(model, x, y, {
        mode: 'targeted',
        targets,
      });
      expect(tf.tidy(() => tf.max(tf.abs(tf.sub(hopeless, x))).dataSync()[0])).toBe(0);
      tf.dispose([x, y, targets, adversarial, hopeless]);
    });
  });
});
