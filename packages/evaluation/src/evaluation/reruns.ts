import type { DependencyContainer } from 'tsyringe';
import { fixedBatches, createJobAttack, type AttackBatchOutput, type AttackJob, type ExampleSlice } from '../attack-batches.js';
import type { AttackRecord } from '@tempered/attacks';
import { attackTraits } from '@tempered/core';
import { threatModelKey, type AttackSummary, type Rerun, type ThreatModelResult } from '@tempered/reports';
import { isBlackBoxRun } from '@tempered/reports';
import { attackKind, feedAttack } from './attack-run.js';
import { headOf } from './examples.js';
import { diagnosticsOf, rerunsOf, type EvaluationOptions, type ModelUnderEvaluation, type PlannedRun, type RerunOptions } from './options.js';
import type { ProgressSink } from './progress.js';
import type { AttackRunner, ModelEntry } from './runner.js';

/**
 * Diagnostic re-runs of each threat model's white-box attack, after the checklists of Carlini
 * et al. (2019, §4–5) and Pintor et al. (2022, "Indicators of Attack Failure"): another random
 * start, twice the steps, and adversarials crafted on the run's baseline model (transfer). A
 * restart or more steps counts the examples it breaks that the attack itself left robust; a
 * transfer, those every white-box attack of the threat model left robust. A converged,
 * unmasked white-box attack leaves (almost) none.
 */

/** Names of the iteration-count parameter, in the attacks' own spelling. */
const STEP_PARAMS = ['steps', 'iterations', 'maxIterations'] as const;

/** The attack a threat model re-runs: its first untargeted, iterative, bounded, white-box attack (not an ensemble). */
export interface RerunPlan {
  readonly threatModel: string;
  readonly reference: PlannedRun;
  /** Name of its iteration-count parameter, when it has one (needed for the more-steps re-run). */
  readonly stepsParam?: string;
}

/** One re-run plan per threat model that has an untargeted iterative attack. */
export function planReruns(container: DependencyContainer, runs: readonly PlannedRun[]): RerunPlan[] {
  const plans = new Map<string, RerunPlan>();
  for (const run of runs) {
    if (run.config.mode !== 'untargeted' || run.margin) continue;
    let attack;
    try {
      attack = createJobAttack(container, { key: run.key, name: run.config.name, params: run.config.params ?? {}, mode: 'untargeted', seed: 0, modelName: '' });
    } catch {
      continue; // the attack's own run reports the configuration error
    }
    // Re-run a plain white-box attack: a black-box one has no gradient to mask, an ensemble is too costly to repeat.
    const traits = attackTraits(attack);
    if (attackKind(attack) !== 'bounded' || traits.blackBox || traits.ensemble || traits.singleStep) continue;
    const params = attack.params();
    const stepsParam = STEP_PARAMS.find((p) => typeof params[p] === 'number');
    if (stepsParam === undefined || (params[stepsParam] as number) <= 1) continue; // single-step attacks have no start or steps to vary
    const key = threatModelKey(attack.norm, attack.epsilon);
    if (!plans.has(key)) plans.set(key, { threatModel: key, reference: run, stepsParam });
  }
  return [...plans.values()];
}

/**
 * The default transfer source among a run's models: the first {@link ModelUnderEvaluation.transferCandidate}
 * (trained without a teacher and without adversarial examples, as its method declares). It
 * depends on no model's or method's name.
 */
export function defaultTransferSource<M extends { readonly name: string; readonly transferCandidate?: boolean }>(models: readonly M[]): M | undefined {
  return models.find((m) => m.transferCandidate === true);
}

/** The model adversarials are transferred from, or undefined when there is none. */
export function transferSource(options: EvaluationOptions, reruns: RerunOptions): ModelUnderEvaluation | undefined {
  if (reruns.transferFrom === false) return undefined;
  const candidates = [...options.models, ...(options.transferSources ?? [])];
  if (reruns.transferFrom !== undefined) return candidates.find((m) => m.name === reruns.transferFrom);
  return defaultTransferSource(candidates);
}

/** Re-run steps one model takes (for the progress count). */
export function rerunSteps(options: EvaluationOptions, plans: readonly RerunPlan[], model: string): number {
  const reruns = rerunsOf(diagnosticsOf(options));
  if (!reruns) return 0;
  const source = transferSource(options, reruns);
  const per = (reruns.restart === false ? 0 : 1) + (source && source.name !== model ? 1 : 0);
  return plans.reduce((n, plan) => n + per + (reruns.moreSteps === false || !plan.stepsParam ? 0 : 1), 0);
}

/** Everything the re-runs of one model need. */
export interface RerunContext {
  readonly options: EvaluationOptions;
  readonly reruns: RerunOptions;
  readonly plans: readonly RerunPlan[];
  readonly runner: AttackRunner;
  readonly handle: ModelEntry;
  readonly handles: ReadonlyMap<string, ModelEntry>;
  readonly slice: ExampleSlice;
  readonly seed: number;
  readonly progress: ProgressSink;
  /** Transfer adversarials crafted on the source, shared by every model of the run. */
  readonly transferCache: Map<string, Promise<AttackBatchOutput[]>>;
}

/** Runs the re-runs of every planned threat model and returns the threat models with `reruns` set. */
export async function runReruns(
  context: RerunContext,
  threatModels: Record<string, ThreatModelResult>,
  attacks: Readonly<Record<string, AttackSummary>>,
): Promise<Record<string, ThreatModelResult>> {
  const { options, reruns, handle, runner, progress } = context;
  const count = Math.min(context.slice.labels.length, reruns.examples ?? 100);
  const part = headOf(context.slice, count);
  const batches = fixedBatches(count, options.batchSize ?? 50);
  const source = transferSource(options, reruns);
  const sourceHandle = source ? context.handles.get(source.name) : undefined;
  const out = { ...threatModels };
  for (const plan of context.plans) {
    const threatModel = threatModels[plan.threatModel];
    if (!threatModel) continue;
    const { reference } = plan;
    const base: AttackJob = { key: reference.key, name: reference.config.name, params: reference.config.params ?? {}, mode: 'untargeted', seed: context.seed, modelName: handle.model.name };
    const results: Record<string, Rerun> = {};
    const measure = async (change: string, outputs: AttackBatchOutput[], against: readonly string[]): Promise<Rerun> => {
      const rows: AttackRecord[] = [];
      await feedAttack(handle.model, outputs, part, base.name, 'untargeted', [], (batchRows) => rows.push(...batchRows));
      return summariseRerun(reference.key, change, rows, threatModel, count, against);
    };
    const own = namesOf(threatModel, reference.key);
    const label = `${handle.model.name}: ${plan.threatModel} ${reference.key}`;
    if (reruns.restart !== false) {
      progress.step(`${label} re-run with another random start on ${count} examples`);
      const job = { ...base, key: `${reference.key}-restart`, seed: context.seed + 7919 };
      results['restart'] = await measure(`seed ${context.seed} → ${job.seed}`, await runner.run(handle, job, part, batches), own);
    }
    if (reruns.moreSteps !== false && plan.stepsParam) {
      const steps = (base.params[plan.stepsParam] as number | undefined) ?? (createJobAttack(options.container, base).params()[plan.stepsParam] as number);
      progress.step(`${label} re-run with ${2 * steps} steps on ${count} examples`);
      const job = { ...base, key: `${reference.key}-more-steps`, params: { ...base.params, [plan.stepsParam]: 2 * steps } };
      results['moreSteps'] = await measure(`${plan.stepsParam} ${steps} → ${2 * steps}`, await runner.run(handle, job, part, batches), own);
    }
    if (source && sourceHandle && sourceHandle !== handle) {
      progress.step(`${label} transferred from ${source.name} on ${count} examples`);
      const job = { ...base, key: `${reference.key}-transfer`, modelName: source.name };
      const cacheKey = `${plan.threatModel}|${reference.key}|${count}`;
      let crafted = context.transferCache.get(cacheKey);
      if (!crafted) {
        crafted = runner.run(sourceHandle, job, part, batches);
        context.transferCache.set(cacheKey, crafted);
      }
      results['transfer'] = await measure(`crafted on ${source.name}`, await crafted, whiteBoxNames(threatModel, attacks));
    }
    if (Object.keys(results).length > 0) out[plan.threatModel] = { ...threatModel, reruns: results };
  }
  return out;
}

/**
 * Robust accuracy of a re-run; the examples it broke that none of `reference` (attack names as
 * in `threatModel.broken`) broke, and those no attack of the threat model broke.
 */
export function summariseRerun(attack: string, change: string, rows: readonly AttackRecord[], threatModel: ThreatModelResult, count: number, reference: readonly string[]): Rerun {
  const broken = new Set(rows.filter((r) => r.attackable && !r.robust).map((r) => r.example));
  const cleanCorrect = new Set(rows.filter((r) => r.attackable).map((r) => r.example));
  let robust = 0;
  for (const e of cleanCorrect) if (!broken.has(e)) robust++;
  const byReference = new Set(reference.flatMap((name) => threatModel.broken?.[name] ?? []));
  const brokenBy = threatModel.brokenBy ?? [];
  let referenceRobust = 0;
  for (let e = 0; e < count; e++) if (brokenBy[e] !== 'clean' && !byReference.has(e)) referenceRobust++;
  let newlyBroken = 0;
  let beyondWorstCase = 0;
  for (const e of broken) {
    if (e >= count) continue;
    if (!byReference.has(e)) newlyBroken++;
    if (brokenBy[e] === null) beyondWorstCase++;
  }
  return {
    attack,
    change,
    evaluated: count,
    referenceRobustAccuracy: count === 0 ? null : referenceRobust / count,
    robustAccuracy: count === 0 ? null : robust / count,
    newlyBroken,
    beyondWorstCase,
  };
}

/** Names in `threatModel.broken` that belong to the attack `key` (itself, or its ensemble components). */
export function namesOf(threatModel: ThreatModelResult, key: string): string[] {
  return threatModel.ran.filter((name) => name === key || name.startsWith(`${key}/`));
}

/** Names in `threatModel.broken` of white-box attacks (everything but score-based black-box ones, as they declared). */
export function whiteBoxNames(threatModel: ThreatModelResult, attacks: Readonly<Record<string, AttackSummary>>): string[] {
  return threatModel.ran.filter((name) => !isBlackBoxRun(name, attacks));
}
