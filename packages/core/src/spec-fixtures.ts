import * as tf from '@tensorflow/tfjs';
import { ArrayDataset } from './data.js';
import { LayersStudent } from './model.js';
import { crossEntropy } from './ops.js';
import { createOptimizer } from './optimizers.js';
import { Rng } from './random.js';
import { optimizeStep } from './step.js';
import type { AccuracyInput, TrainingMethod, Student, TrainingPhase } from './types.js';

/** Shared fixtures for core specs (not exported from the package). */

export function tinyMlp(seed: number, inputs = 4, classes = 3): Student {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [inputs], units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 8, activation: 'relu', name: 'features', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
      tf.layers.dense({ units: classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }),
    ],
  });
  return new LayersStudent(model, { name: `mlp-${seed}` });
}

/** A class-separable synthetic dataset: class k centred at e_k. */
export function blobs(size: number, seed: number, inputs = 4, classes = 3): ArrayDataset {
  const rng = new Rng(seed);
  const images = new Float32Array(size * inputs);
  const labels = new Int32Array(size);
  for (let i = 0; i < size; i++) {
    const label = i % classes;
    labels[i] = label;
    for (let j = 0; j < inputs; j++) images[i * inputs + j] = Math.min(1, Math.max(0, (j === label ? 0.8 : 0.2) + 0.1 * rng.normal()));
  }
  return new ArrayDataset('blobs', images, labels, [inputs], classes);
}

/** Plain cross-entropy training as a one-phase method, for trainer and checkpoint specs. */
export class PlainMethod implements TrainingMethod {
  readonly name = 'plain';
  readonly teacher = 'none' as const;
  private phase!: TrainingPhase;
  constructor(
    private readonly student: Student,
    private readonly epochs: number,
    private readonly optimizerName: 'adam' | 'sgd' | 'momentum' = 'adam',
    private readonly step?: (x: tf.Tensor) => void,
    /** What each step declares its logits were computed on (by step index); undefined: says nothing. */
    private readonly accuracyOn?: (step: number) => AccuracyInput | undefined,
  ) {}
  setup(): void {
    const student = this.student;
    const optimizer = createOptimizer({ name: this.optimizerName, learningRate: 0.01 });
    this.phase = {
      name: 'student',
      model: student,
      epochs: this.epochs,
      optimizer,
      trainStep: (batch, context) => {
        this.step?.(batch.x);
        const accuracyOn = this.accuracyOn?.(context.step);
        return optimizeStep(optimizer, student.trainableVariables(), () => {
          const logits = student.logits(batch.x, { training: true });
          return { loss: crossEntropy(logits, batch.labels), logits, labels: batch.labels, ...(accuracyOn ? { accuracyOn } : {}) };
        });
      },
    };
  }
  phases(): readonly TrainingPhase[] {
    return [this.phase];
  }
  result(): Student {
    return this.student;
  }
  params(): Record<string, unknown> {
    return { epochs: this.epochs };
  }
  dispose(): void {
    this.phase.optimizer.dispose();
  }
}

export async function weightsOf(model: Student): Promise<Float32Array[]> {
  const weights = model.getWeights();
  const values = weights.map((w) => w.dataSync() as Float32Array);
  tf.dispose(weights);
  return values;
}
