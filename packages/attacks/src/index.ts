/**
 * @tempered/attacks: FGSM, PGD (L∞/L2), APGD, Square, FAB, AutoAttack, JSMA and Carlini & Wagner L2 for TensorFlow.js models,
 * as core `Attack` plugins (`register(container)`), classes, and plain functions of a model.
 * @packageDocumentation
 */
import 'reflect-metadata';

export { register } from './register.js';
export { Fgsm, fgsm, FGSM_PARAMS } from './fgsm.js';
export type { FgsmParams } from './fgsm.js';
export { Pgd, pgd, PGD_PARAMS, projectToBall, sampleBall, madryStepSize } from './pgd.js';
export type { BallProjection } from './pgd.js';
export type { PgdParams } from './pgd.js';
export { Jsma, jsma, JSMA_PARAMS, bestSaliencyPair } from './jsma.js';
export type { JsmaParams } from './jsma.js';
export { CarliniWagnerL2, cw, CW_PARAMS } from './cw.js';
export type { CwParams } from './cw.js';
export { Apgd, apgd, APGD_PARAMS } from './apgd.js';
export type { ApgdParams } from './apgd.js';
export { apgdCheckpoints, shouldHalveStep } from './apgd-run.js';
export type { CheckpointState } from './apgd-run.js';
export { Square, square, SQUARE_PARAMS } from './square.js';
export type { SquareParams } from './square.js';
export { Fab, fab, FAB_PARAMS } from './fab.js';
export type { FabParams } from './fab.js';
export { AutoAttack, autoattack, AUTOATTACK_PARAMS, AUTOATTACK_COMPONENTS, AUTOATTACK_STANDARD } from './autoattack.js';
export type { AutoAttackParams, AutoAttackComponent } from './autoattack.js';
export { BaseAttack, resolveContext, checkBounds } from './base.js';
export type { AttackContext } from './base.js';
export { attackObjective, objectiveGradient, lossGradient, isAdversarial, logitMargin, maxOtherLogit, dlrLoss, targetedDlrLoss } from './objective.js';
export type { AttackLoss, ObjectiveOptions } from './objective.js';
export { toModel } from './model-like.js';
export type { ModelLike, LogitsFunction, ToModelOptions } from './model-like.js';
export { attackRecords, recordsOf, allOtherTargets, randomTargets, L0_THRESHOLD } from './records.js';
export type { AttackRecord, ClassIndices, RecordInputs } from './records.js';
export { pgdThroughput, autoattackThroughput, attackIterationCosts, perIteration } from './bench.js';
export type { PgdThroughput, PgdThroughputOptions, AutoAttackThroughput, AutoAttackThroughputOptions, AttackIterationCosts, AttackIterationOptions, IterationTimings } from './bench.js';
export {
  INNER_MAX_PARAMS,
  WARMUP_PARAMS,
  EpsilonSchedule,
  ScheduledInnerAttack,
  batchesPerEpoch,
  createInnerAttack,
  craftAdversarial,
  trainingModeView,
  warmupFactor,
} from './training.js';
export type { InnerMaxSettings, ScheduledBudget, WarmupSettings } from './training.js';
export { klPgd, klWalk } from './kl-pgd.js';
export type { KlPgdArgs, KlPgdSettings, KlWalkArgs, KlWalkTarget } from './kl-pgd.js';
export { WALK_PARAMS, ascentStart, objectiveWalk, projectedAscent } from './ascent.js';
export type { AscentStart, AscentWalk, WalkSettings } from './ascent.js';
