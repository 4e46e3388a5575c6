import type { DependencyContainer } from 'tsyringe';
import { TOKENS, createPlugin } from '@tempered/core';
import { fixedBatches, type AttackJob, type ExampleSlice } from '../attack-batches.js';
import type { EpsilonSweep, SweepPoint } from '@tempered/reports';
import { finiteOrNull, rateInterval } from '@tempered/reports';
import { feedAttack, metric } from './attack-run.js';
import type { AttackRecord } from '@tempered/attacks';
import { worstCase } from '../threat-models.js';
import { headOf } from './examples.js';
import { DEFAULT_SWEEP_EPSILONS, defaultSweepAttack, withMode, type EvaluationOptions, type SweepOptions } from './options.js';
import type { ProgressSink } from './progress.js';
import type { AttackRunner, ModelEntry } from './runner.js';

/** Sweep points a model runs (steps of the progress count). */
export function sweepSteps(sweep: SweepOptions | undefined): number {
  return sweep ? (sweep.epsilons ?? DEFAULT_SWEEP_EPSILONS).length : 0;
}

/**
 * Robust accuracy of one attack as ε grows to the whole input range (Carlini et al. 2019, §5:
 * at an ε covering the range every input can become any other, so accuracy must reach 0).
 * Any `stepSize` keeps its ratio to ε. Undefined (with a note) when the attack cannot be built.
 */
export async function runSweep(
  options: EvaluationOptions,
  sweep: SweepOptions,
  handle: ModelEntry,
  runner: AttackRunner,
  slice: ExampleSlice,
  seed: number,
  scope: DependencyContainer,
  progress: ProgressSink,
): Promise<EpsilonSweep | undefined> {
  const configured = sweep.attack === undefined
    ? defaultSweepAttack(options)
    : options.attacks.find((a) => a.name === sweep.attack && withMode(options.container, a).mode === 'untargeted');
  const attackName = sweep.attack ?? configured?.name;
  if (attackName === undefined) {
    progress.note('ε sweep skipped: no configured untargeted, bounded, white-box iterative attack to sweep (set diagnostics.sweep.attack)');
    return undefined;
  }
  const baseParams = sweep.params ?? configured?.params ?? {};
  let base;
  try {
    base = createPlugin(scope, TOKENS.Attack, attackName, baseParams);
  } catch (error) {
    progress.note(`ε sweep skipped: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
  const baseValues = base.params();
  const range = handle.model.bounds.max - handle.model.bounds.min;
  const count = Math.min(slice.labels.length, sweep.examples ?? 50);
  const part = headOf(slice, count);
  const batches = fixedBatches(count, options.batchSize ?? 50);
  const points: SweepPoint[] = [];
  for (const fraction of sweep.epsilons ?? DEFAULT_SWEEP_EPSILONS) {
    const epsilon = fraction * range;
    const params: Record<string, unknown> = { ...baseParams, epsilon };
    const baseEpsilon = baseValues['epsilon'];
    const baseStep = baseValues['stepSize'];
    if (typeof baseStep === 'number' && typeof baseEpsilon === 'number' && baseEpsilon > 0) params['stepSize'] = (baseStep / baseEpsilon) * epsilon;
    progress.step(`${handle.model.name}: ε sweep ${attackName} ε = ${epsilon} on ${count} examples`);
    const job: AttackJob = { key: `sweep-${attackName}-${epsilon}`, name: attackName, params, mode: 'untargeted', seed, modelName: handle.model.name };
    const outputs = await runner.run(handle, job, part, batches);
    const success = metric<number>(scope, 'success-rate');
    const rows: AttackRecord[] = [];
    await feedAttack(handle.model, outputs, part, attackName, 'untargeted', [success], (batchRows) => rows.push(...batchRows));
    // Untargeted: one row per example, whose `attackable` is the clean outcome.
    const cleanCorrect = Array.from({ length: count }, () => false);
    for (const row of rows) if (row.example < count) cleanCorrect[row.example] = row.attackable;
    const robustAccuracy = worstCase([{ key: attackName, norm: base.norm, epsilon, rows }], cleanCorrect).robustAccuracy;
    points.push({ epsilon, robustAccuracy, robustAccuracyInterval: rateInterval(robustAccuracy, count), successRate: finiteOrNull(success.result()) });
  }
  return { attack: attackName, params: base.effectiveParams?.() ?? baseValues, norm: base.norm, evaluated: count, range, points };
}
