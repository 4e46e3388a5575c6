import type { Dataset } from '@tempered/core';
import type { ExampleSlice } from '../attack-batches.js';
import type { AttackRecord } from '@tempered/attacks';
import type { AdversarialExample } from '@tempered/reports';

/** Values per example (product of the input shape). */
export function featureSizeOf(slice: ExampleSlice): number {
  return slice.inputShape.reduce((a, b) => a * b, 1);
}

/** The first `count` examples of the test split, in order, as flat arrays. */
export function sliceOf(test: Dataset, count: number): ExampleSlice {
  const { x, labels } = test.batch(Int32Array.from({ length: count }, (_, i) => i));
  try {
    return {
      start: 0,
      x: Float32Array.from(x.dataSync()),
      labels: Int32Array.from(labels.dataSync()),
      inputShape: test.inputShape,
      numClasses: test.numClasses,
    };
  } finally {
    x.dispose();
    labels.dispose();
  }
}

/** The first `count` examples of a slice that starts at 0. */
export function headOf(slice: ExampleSlice, count: number): ExampleSlice {
  return { ...slice, x: slice.x.subarray(0, count * featureSizeOf(slice)), labels: slice.labels.subarray(0, count) };
}

function round3(values: Float32Array): number[] {
  return Array.from(values, (v) => Math.round(v * 1000) / 1000);
}

/**
 * Adds the successful rows of one batch to `kept` for the report's image grids, one row per
 * example, until `limit` are kept (successes only, so the grid shows what the attack does).
 */
export function keepExamples(kept: AdversarialExample[], limit: number, rows: readonly AttackRecord[], adversarial: Float32Array, slice: ExampleSlice): void {
  const featureSize = featureSizeOf(slice);
  for (let r = 0; r < rows.length && kept.length < limit; r++) {
    const row = rows[r]!;
    if (!(row.attackable && row.success) || kept.some((k) => k.index === row.example)) continue;
    const from = (row.example - slice.start) * featureSize;
    kept.push({
      index: row.example,
      label: row.label,
      ...(row.target !== undefined ? { target: row.target } : {}),
      cleanPrediction: row.cleanPrediction,
      adversarialPrediction: row.prediction,
      success: row.success,
      shape: [...slice.inputShape],
      clean: round3(slice.x.subarray(from, from + featureSize)),
      adversarial: round3(adversarial.subarray(r * featureSize, (r + 1) * featureSize)),
    });
  }
}
