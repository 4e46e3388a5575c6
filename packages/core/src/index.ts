/**
 * @tempered/core: interfaces, DI tokens and registry, the event-driven Trainer, backend
 * selection, seeds and shared tensor math. Core knows no concrete method, attack or loss: those
 * are plugins registered by name into a DI container.
 *
 * This entry imports no Node built-in, so it bundles for the browser. What needs the file system
 * (model files, atomic writes, checkpoints, the JSONL log) is in `@tempered/core/node`.
 * @packageDocumentation
 */
import 'reflect-metadata';

export type {
  Attack,
  AttackMode,
  AttackOptions,
  AttackResult,
  AttackTraits,
  Dataset,
  TrainingMethod,
  EvaluationBatch,
  ForwardOptions,
  InputBounds,
  Loss,
  LossContext,
  MethodSetup,
  Metric,
  Model,
  ModelCapability,
  ModelOutputs,
  Norm,
  PhaseContext,
  PluginDescriptor,
  StepContext,
  StepResult,
  AccuracyInput,
  Student,
  Teacher,
  TeacherRoles,
  TrainingBatch,
  TrainingPhase,
} from './types.js';
export { attackTraits } from './attack-traits.js';
export { TOKENS, PLUGIN_KINDS } from './tokens.js';
export type { PluginKind, ModelArchitecture, ModelBuildOptions, DatasetSource, DatasetSplits } from './tokens.js';
export {
  registerPlugin,
  getPlugin,
  createPlugin,
  createPluginOfKind,
  listPlugins,
  classPlugin,
  factoryPlugin,
} from './registry.js';
export type { PluginClass } from './registry.js';
/** The DI container type, so a plugin's `register(container)` needs no direct tsyringe import. */
export type { DependencyContainer } from 'tsyringe';
export { defineMethod, METHOD_TRAINING_PARAMS } from './method.js';
export type { MethodDefinition, MethodStep, PhaseDefinition, PhaseHook, SlotLoss } from './method.js';
export { defineParams, defaultParams, validateParams, paramsJsonSchema, paramsSchema } from './params.js';
export type { ParamSpec, ParamSpecs, ParamValues, ValueOf } from './params.js';
// Errors, schema checks and median: the tfjs-free part, also its own entry (@tempered/core/pure).
export * from './pure.js';
export { Rng, deriveSeed, permutation } from './random.js';
export {
  LayersModelAdapter,
  LayersStudent,
  LayersTeacher,
  asTeacher,
  assertCompatible,
  layersModelOf,
  modelView,
  FEATURES_LAYER,
  DEFAULT_BOUNDS,
} from './model.js';
export type { LayersModelAdapterOptions, ModelViewChanges } from './model.js';
export {
  softmaxAt,
  logSoftmaxAt,
  crossEntropy,
  crossEntropyPerExample,
  softCrossEntropy,
  klDivergence,
  klDivergencePerExample,
  countCorrect,
} from './ops.js';
export type { TargetAndLogits } from './ops.js';
export { ArrayDataset, batchIndices, batchesPerEpoch } from './data.js';
export { optimizeStep } from './step.js';
export type { StepLoss } from './step.js';
export {
  createOptimizer, createSchedule, foldFlatOptimizerKeys, learningRateAt, learningRateOf, setLearningRate, weightDecayOf,
  OPTIMIZER_PARAMS, SCHEDULE_PARAMS,
} from './optimizers.js';
export type { LearningRateSchedule, OptimizerConfig, ScheduleConfig, SchedulePosition, WeightDecay } from './optimizers.js';
export { selectBackend, BACKEND_PREFERENCES } from './backend.js';
export type { BackendInfo, BackendPreference, ModuleImporter } from './backend.js';
export { Trainer, yieldToEventLoop } from './trainer.js';
export type { TrainOptions, TrainOutcome } from './trainer.js';
export type {
  TrainerEventMap,
  TrainerEventName,
  TrainerListener,
  TrainerControl,
  TrainerEvents,
  TrainerPlugin,
  TrainerPosition,
  RunStartEvent,
  RunEndEvent,
  PhaseEvent,
  EpochStartEvent,
  EpochEndEvent,
  BatchStartEvent,
  BatchEndEvent,
  EvaluationEvent,
  CheckpointEvent,
  WarningEvent,
  ErrorEvent,
} from './events.js';
export { eventRecord } from './listeners/event-record.js';
export { EarlyStopping } from './listeners/early-stopping.js';
export { DivergenceGuard, DivergenceError, DEFAULT_LOSS_GROWTH } from './listeners/divergence.js';
export type { DivergenceGuardOptions } from './listeners/divergence.js';
export { EpochAccumulator, epochTotalsProblem } from './epoch-totals.js';
export type { EpochTotals } from './epoch-totals.js';
export type { EarlyStoppingOptions } from './listeners/early-stopping.js';
export { ProgressListener, StepProgress, progressBar, stepLine, terminalSink } from './listeners/progress.js';
export type { ProgressOptions, ProgressEvent, ProgressSink, ProgressStream } from './listeners/progress.js';
