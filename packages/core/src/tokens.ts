import type { InjectionToken } from 'tsyringe';
import type {
  Attack,
  Dataset,
  TrainingMethod,
  Loss,
  Metric,
  PluginDescriptor,
  Student,
} from './types.js';

/** Options every model architecture's builder receives. */
export interface ModelBuildOptions {
  readonly name: string;
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** Seed for weight initialisation. */
  readonly seed: number;
}

/** A model architecture plugin: builds fresh students. */
export interface ModelArchitecture {
  readonly name: string;
  build(options: ModelBuildOptions): Student;
}

/** A train/test split. */
export interface DatasetSplits {
  readonly name: string;
  readonly train: Dataset;
  readonly test: Dataset;
}

/** A dataset plugin: loads splits (from embedded data, a directory, or a generator). */
export interface DatasetSource {
  readonly name: string;
  load(): Promise<DatasetSplits>;
}

/** Every DI token of Tempered, in one place. */
export const TOKENS = {
  /** PluginDescriptor<Attack>, many. */
  Attack: Symbol.for('tempered.Attack') as InjectionToken<PluginDescriptor<Attack>>,
  /** PluginDescriptor<Loss>, many. */
  Loss: Symbol.for('tempered.Loss') as InjectionToken<PluginDescriptor<Loss>>,
  /** PluginDescriptor<Metric>, many. */
  Metric: Symbol.for('tempered.Metric') as InjectionToken<PluginDescriptor<Metric>>,
  /** PluginDescriptor<TrainingMethod>, many. */
  Method: Symbol.for('tempered.Method') as InjectionToken<PluginDescriptor<TrainingMethod>>,
  /** PluginDescriptor<ModelArchitecture>, many. */
  Model: Symbol.for('tempered.Model') as InjectionToken<PluginDescriptor<ModelArchitecture>>,
  /** PluginDescriptor<DatasetSource>, many. */
  Dataset: Symbol.for('tempered.Dataset') as InjectionToken<PluginDescriptor<DatasetSource>>,
  /** The parameters object handed to a class-based plugin's constructor. */
  PluginParams: Symbol.for('tempered.PluginParams') as InjectionToken<Record<string, unknown>>,
  /** The run's seed (number). */
  Seed: Symbol.for('tempered.Seed') as InjectionToken<number>,
} as const;

/** The plugin kinds and their tokens, for listings and error messages. */
export const PLUGIN_KINDS = {
  attack: TOKENS.Attack,
  loss: TOKENS.Loss,
  metric: TOKENS.Metric,
  method: TOKENS.Method,
  model: TOKENS.Model,
  dataset: TOKENS.Dataset,
} as const;

export type PluginKind = keyof typeof PLUGIN_KINDS;
