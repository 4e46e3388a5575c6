import type { EpochTotals } from './epoch-totals.js';
import type { AccuracyInput, TrainingMethod, TrainingPhase } from './types.js';

/** Where training is: the next step to run is batch `batch` of epoch `epoch` of phase `phase`. */
export interface TrainerPosition {
  readonly phase: number;
  readonly epoch: number;
  readonly batch: number;
  /** Steps already taken in the current phase. */
  readonly step: number;
}

interface Base {
  /** Name of the model being produced (e.g. "ard"). */
  readonly model: string;
}

export interface RunStartEvent extends Base {
  readonly method: TrainingMethod;
  readonly phases: readonly string[];
  readonly resumedFrom?: TrainerPosition;
}
export interface RunEndEvent extends Base {
  readonly method: TrainingMethod;
  readonly stopped: boolean;
  readonly reason?: string;
  /** Where training would continue (the end when not stopped). */
  readonly position: TrainerPosition;
  readonly durationMs: number;
  /** A mid-epoch stop: the epoch's running sums so far (a checkpoint keeps them for the resume). */
  readonly epochTotals?: EpochTotals;
}
export interface PhaseEvent extends Base {
  readonly method: TrainingMethod;
  readonly phase: TrainingPhase;
  readonly phaseIndex: number;
}
export interface EpochStartEvent extends PhaseEvent {
  readonly epoch: number;
  readonly batches: number;
}
export interface EpochEndEvent extends PhaseEvent {
  readonly epoch: number;
  /** Mean loss over the epoch's batches. */
  readonly loss: number;
  /** Mean of each named loss term. */
  readonly terms: Readonly<Record<string, number>>;
  /** Training accuracy over the epoch (when steps report it). */
  readonly accuracy?: number;
  /** What that accuracy was measured on, as the steps declared it ('clean' x or 'adversarial' x′); absent when they did not say. */
  readonly accuracyOn?: AccuracyInput;
  /** tf.memory().numTensors at epoch end: constant across epochs when nothing leaks. */
  readonly numTensors: number;
  /** The learning rate in force during the epoch's last step (the schedule's, when the phase has one). */
  readonly learningRate?: number;
  /** Every step's learning rate in this epoch, in order (from the resumed batch on, after a resume). */
  readonly learningRates?: readonly number[];
  readonly durationMs: number;
  /** The position after this epoch (for checkpoints). */
  readonly position: TrainerPosition;
}
export interface BatchStartEvent extends PhaseEvent {
  readonly epoch: number;
  readonly batch: number;
  readonly batches: number;
}
export interface BatchEndEvent extends BatchStartEvent {
  readonly loss: number;
  /** The learning rate this step used. */
  readonly learningRate?: number;
  readonly terms: Readonly<Record<string, number>>;
  readonly position: TrainerPosition;
}
export interface EvaluationEvent extends Base {
  readonly phase: string;
  readonly epoch: number;
  readonly metrics: Readonly<Record<string, number>>;
}
export interface CheckpointEvent extends Base {
  readonly path: string;
  readonly position: TrainerPosition;
  readonly reason: 'epoch' | 'signal' | 'stop';
}
export interface WarningEvent extends Base {
  readonly message: string;
}
export interface ErrorEvent extends Base {
  readonly error: unknown;
  readonly position: TrainerPosition;
}

/** Handed to every listener: a listener may ask the trainer to stop after the current batch. */
export interface TrainerControl {
  stop(reason: string): void;
  readonly stopRequested: boolean;
}

/** The trainer's typed event map (tfjs-layers callback hooks, as events). */
export interface TrainerEventMap {
  'run:start': RunStartEvent;
  'run:end': RunEndEvent;
  'phase:start': PhaseEvent;
  'phase:end': PhaseEvent;
  'epoch:start': EpochStartEvent;
  'epoch:end': EpochEndEvent;
  'batch:start': BatchStartEvent;
  'batch:end': BatchEndEvent;
  evaluation: EvaluationEvent;
  checkpoint: CheckpointEvent;
  warning: WarningEvent;
  error: ErrorEvent;
}

export type TrainerEventName = keyof TrainerEventMap;
export type TrainerListener<E extends TrainerEventName> = (
  event: TrainerEventMap[E],
  control: TrainerControl,
) => void | Promise<void>;

/** A listener object: subscribes itself to the events it handles. */
export interface TrainerPlugin {
  attach(trainer: TrainerEvents): void;
}

/** The subscription surface of the trainer. */
export interface TrainerEvents {
  on<E extends TrainerEventName>(event: E, listener: TrainerListener<E>): this;
  off<E extends TrainerEventName>(event: E, listener: TrainerListener<E>): this;
  emit<E extends TrainerEventName>(event: E, payload: TrainerEventMap[E]): Promise<void>;
  /** Asks the trainer to stop after the current batch. */
  requestStop(reason: string): void;
}
