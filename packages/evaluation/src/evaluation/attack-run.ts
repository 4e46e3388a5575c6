import * as tf from '@tensorflow/tfjs';
import type { DependencyContainer } from 'tsyringe';
import { TOKENS, attackTraits, createPlugin, type Attack, type AttackMode, type Metric, type Model } from '@tempered/core';
import { createJobAttack, type AttackBatchOutput, type AttackJob, type BatchRange, type ExampleSlice } from '../attack-batches.js';
import type { DistortionResult } from '../metrics/distortion.js';
import type { AttackRecord } from '@tempered/attacks';
import { attackRows, type IndexedEvaluationBatch } from '../metrics/rows.js';
import { threatModelKey, type AdversarialExample, type AttackKind, type AttackSummary, type RecordedAttackTraits } from '@tempered/reports';
import { finiteOrNull, mean, rateInterval } from '@tempered/reports';
import { worstCase, type AttackRun } from '../threat-models.js';
import { featureSizeOf, keepExamples } from './examples.js';
import type { AttackRunner, ModelEntry } from './runner.js';

export function metric<R>(container: DependencyContainer, name: string, params: Record<string, unknown> = {}): Metric<R> {
  return createPlugin(container, TOKENS.Metric, name, params) as Metric<R>;
}

/**
 * Minimum-distortion attacks look for the smallest perturbation rather than search a ball: C&W
 * (ε = ∞) and L0 attacks such as JSMA, whose "budget" γ is a share of the features, not a
 * threat model anyone certifies. They never enter a threat model's worst case. The attack
 * declares it (`traits.minimumDistortion`).
 */
export function attackKind(attack: Pick<Attack, 'epsilon' | 'traits'>): AttackKind {
  return attackTraits(attack).minimumDistortion ? 'minimum-distortion' : 'bounded';
}

/** The traits results.json keeps (the checks read them from the results alone). */
export function recordedTraits(attack: Attack): RecordedAttackTraits {
  const { blackBox, singleStep, ensemble, blackBoxComponents } = attackTraits(attack);
  return { blackBox, singleStep, ensemble, blackBoxComponents: [...blackBoxComponents] };
}

/** Row outcomes of an attack's outputs on `model`, fed to the metrics batch by batch. */
export async function feedAttack(
  model: Model,
  outputs: readonly AttackBatchOutput[],
  slice: ExampleSlice,
  attackName: string,
  mode: AttackMode,
  metrics: readonly Metric[],
  onRows: (rows: AttackRecord[], output: AttackBatchOutput) => void,
): Promise<void> {
  const featureSize = featureSizeOf(slice);
  for (const output of outputs) {
    const rows = output.indices.length;
    const pixels = new Float32Array(rows * featureSize);
    for (let r = 0; r < rows; r++) {
      const from = (output.indices[r]! - slice.start) * featureSize;
      pixels.set(slice.x.subarray(from, from + featureSize), r * featureSize);
    }
    const x = tf.tensor(pixels, [rows, ...slice.inputShape], 'float32');
    const labels = tf.tensor1d(output.labels, 'int32');
    const adversarial = tf.tensor(output.adversarial, [rows, ...slice.inputShape], 'float32');
    const targets = output.targets ? tf.tensor1d(output.targets, 'int32') : undefined;
    const logits = tf.tidy(() => model.logits(x, { training: false }));
    const adversarialLogits = tf.tidy(() => model.logits(adversarial, { training: false }));
    try {
      const batch: IndexedEvaluationBatch = {
        modelName: model.name,
        x,
        labels,
        logits,
        indices: output.indices,
        attack: { name: attackName, mode, adversarial, adversarialLogits, ...(targets ? { targets } : {}), iterations: output.iterations },
      };
      for (const m of metrics) await m.update(batch);
      onRows(attackRows(batch), output);
    } finally {
      tf.dispose([x, labels, adversarial, logits, adversarialLogits]);
      targets?.dispose();
    }
  }
}

/** Everything one configured attack produced on one model. */
export interface AttackOutcome {
  readonly summary: AttackSummary;
  readonly record: AttackRun;
  readonly examples: AdversarialExample[];
}

/** Runs one attack on a model and summarises it: metrics with intervals, its threat model, grids. */
export async function runAttack(
  scope: DependencyContainer,
  runner: AttackRunner,
  handle: ModelEntry,
  job: AttackJob,
  slice: ExampleSlice,
  batches: readonly BatchRange[],
  examplesPerAttack: number,
  /** Per example, whether the clean input was classified correctly (the clean pass's outcome). */
  cleanCorrect: ArrayLike<boolean>,
  /** Metric plugins (evaluation.metrics) that also see this attack's batches. */
  extraMetrics: readonly Metric[] = [],
): Promise<AttackOutcome> {
  const attack = createJobAttack(scope, job);
  const count = slice.labels.length;
  const outputs = await runner.run(handle, job, slice, batches);
  const success = metric<number>(scope, 'success-rate');
  const distortion = metric<DistortionResult>(scope, 'distortion');
  const rho = metric<number>(scope, 'adversarial-robustness', { attack: attack.name });
  const kept: AdversarialExample[] = [];
  const rows: AttackRecord[] = [];
  const components: Array<string | null> = [];
  const ran: string[] = [];
  await feedAttack(handle.model, outputs, slice, attack.name, job.mode, [success, distortion, rho, ...extraMetrics], (batchRows, output) => {
    rows.push(...batchRows);
    batchRows.forEach((_, r) => components.push(output.brokenBy?.[r] ?? null));
    for (const name of output.ran ?? []) if (!ran.includes(name)) ran.push(name);
    keepExamples(kept, examplesPerAttack, batchRows, output.adversarial, slice);
  });
  const kind = attackKind(attack);
  const d = distortion.result();
  const attackable = rows.filter((r) => r.attackable).length;
  const successRate = finiteOrNull(success.result());
  const epsilon = kind === 'bounded' ? attack.epsilon : null;
  const featureCount = featureSizeOf(slice);
  const reportsRan = outputs.some((o) => o.ran !== undefined);
  const record: AttackRun = {
    key: job.key,
    norm: attack.norm,
    epsilon,
    rows,
    ...(components.some((c) => c !== null) ? { components } : {}),
    ...(reportsRan ? { ran } : {}),
  };
  // The attack's own robust accuracy is the worst case of its one run, as a threat model counts it.
  const robustAccuracy = worstCase([record], cleanCorrect).robustAccuracy;
  const summary: AttackSummary = {
    name: attack.name,
    params: attack.effectiveParams?.() ?? attack.params(),
    mode: job.mode,
    norm: attack.norm,
    kind,
    epsilon,
    ...(epsilon !== null ? { threatModel: threatModelKey(attack.norm, epsilon) } : {}),
    ...(attack.norm === 'l0' && Number.isFinite(attack.epsilon) ? { maxL0: attack.epsilon * featureCount } : {}),
    evaluated: count,
    pairs: rows.length,
    attackable,
    successRate,
    successRateInterval: rateInterval(successRate, attackable),
    robustAccuracy,
    robustAccuracyInterval: rateInterval(robustAccuracy, count),
    meanL0: finiteOrNull(d.meanL0),
    medianL0: finiteOrNull(d.medianL0),
    meanL2: finiteOrNull(d.meanL2),
    medianL2: finiteOrNull(d.medianL2),
    meanLinf: finiteOrNull(d.meanLinf),
    medianLinf: finiteOrNull(d.medianLinf),
    ...(attack.norm === 'l0' ? { rhoAdv: finiteOrNull(rho.result()) } : {}),
    meanIterations: finiteOrNull(mean(outputs.flatMap((o) => Array.from(o.iterations)))),
    ...(reportsRan ? { ran } : {}),
    traits: recordedTraits(attack),
  };
  return { summary, record, examples: kept };
}
