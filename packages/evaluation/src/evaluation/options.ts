import type { DependencyContainer } from 'tsyringe';
import { ConfigError, TOKENS, attackTraits, createPlugin, type Attack, type AttackMode, type BackendPreference, type Dataset, type Model } from '@tempered/core';
import type { DiagnosticThresholds } from '@tempered/reports';
import type { TeacherInfo, TrainingCurves } from '@tempered/reports';

/** A model to evaluate. */
export interface ModelUnderEvaluation {
  /** Key in `results.models`. */
  readonly name: string;
  /** Training method, e.g. "defensive-distillation". */
  readonly method: string;
  readonly model: Model;
  /** When given, teacher–student agreement is measured. */
  readonly teacher?: Model;
  readonly methodParams?: Record<string, unknown>;
  /** How the teacher was made, recorded as `results.models.<m>.teacher`. */
  readonly teacherInfo?: TeacherInfo;
  /** A several-teacher method's teachers by role (primary first), recorded as `results.models.<m>.teachers`. */
  readonly teachersInfo?: Readonly<Record<string, TeacherInfo>>;
  readonly training?: TrainingCurves;
  /**
   * Trained without a teacher and without adversarial examples (its method declares
   * `teacher: 'none'` and `adversarial: false`): a fair source for the transfer check's
   * adversarials. The default source is the first such model.
   */
  readonly transferCandidate?: boolean;
}

/** One attack to run: a registered name, its params and the mode. */
export interface AttackConfig {
  readonly name: string;
  /** Key in `results.models.<m>.attacks`; default the name (suffixed -2, -3 … when repeated). */
  readonly key?: string;
  readonly params?: Record<string, unknown>;
  /** Default: the attack's declared default mode ({@link attackTraits}); 'targeted' attacks every other class (Papernot et al.). */
  readonly mode?: AttackMode;
}

/** A metric plugin to run on every model (see {@link EvaluationOptions.metrics} for the batches it sees). */
export interface MetricConfig {
  readonly name: string;
  /** Key in `results.models.<m>.metrics`; default the name. */
  readonly key?: string;
  readonly params?: Record<string, unknown>;
}

/** The ε sweep of the large-ε check (see {@link DiagnosticsOptions.sweep}). */
export interface SweepOptions {
  readonly attack?: string;
  readonly params?: Record<string, unknown>;
  readonly epsilons?: readonly number[];
  readonly examples?: number;
}

/** The diagnostic re-runs of each threat model's white-box attack (see {@link DiagnosticsOptions.reruns}). */
export interface RerunOptions {
  /** Examples re-attacked: the first this-many. Default min(N, 100). */
  readonly examples?: number;
  /** Re-run with another seed (another random start). Default true. */
  readonly restart?: boolean;
  /** Re-run with twice the steps. Default true. */
  readonly moreSteps?: boolean;
  /**
   * Craft the adversarials on this model (a name in `models` or `transferSources`) and replay them
   * on every other model. Default: {@link defaultTransferSource} (the first model marked
   * `transferCandidate`); false disables. Without a source the check is reported as not run.
   */
  readonly transferFrom?: string | false;
}

/** The extra runs the checks need. Defaults are cheap. */
export interface DiagnosticsOptions {
  /**
   * Robust accuracy vs ε sweep. `epsilons` are fractions of the input range (default [0.05, 0.1,
   * 0.2, 0.3, 0.5, 1]); `examples` defaults to min(N, 50). `attack` defaults to the first
   * configured untargeted attack that is bounded, white-box, iterative and not an ensemble (by
   * its traits), and `params` to that configured attack's. Any `stepSize` keeps its ratio to ε. false disables.
   */
  readonly sweep?: false | SweepOptions;
  /**
   * A margin-loss twin at the budget of each configured untargeted attack that declares one
   * (`traits.marginTwin`, e.g. PGD with `loss: 'margin'`). 'auto' (default) adds every declared twin.
   */
  readonly marginAttack?: 'auto' | false | AttackConfig;
  /** Restart, more-steps and transfer re-runs per threat model; false disables all three. */
  readonly reruns?: false | RerunOptions;
  readonly thresholds?: Partial<DiagnosticThresholds>;
}

export interface EvaluationOptions {
  /** Container where attacks (and any metric plugins) are registered. */
  readonly container: DependencyContainer;
  readonly models: readonly ModelUnderEvaluation[];
  /**
   * Models that are not evaluated but may serve as the transfer check's source, e.g. the baseline
   * when each model of a run is evaluated in its own job.
   */
  readonly transferSources?: readonly ModelUnderEvaluation[];
  /** The test split: the first `examples` examples, in order, are evaluated. */
  readonly test: Dataset;
  /** N, default 1000 (capped at the split's size). */
  readonly examples?: number;
  readonly attacks: readonly AttackConfig[];
  /**
   * Metric plugins (registered under TOKENS.Metric, built-in or from a plugin) run on every model:
   * they see every clean batch, then every attack run's batches (margin twins included; not the
   * sweep or re-runs). Each `result()` must be a number, null or an object of them, and lands in
   * `results.models.<m>.metrics.<key>`.
   */
  readonly metrics?: readonly MetricConfig[];
  /** Examples per batch (targeted runs have K − 1 rows per example). Default 50. */
  readonly batchSize?: number;
  readonly seed?: number;
  /** Worker threads; 0 (default) runs in-process. */
  readonly workers?: number;
  /** Plugin module specifiers each worker imports and `register`s (e.g. ['@tempered/attacks', '@tempered/models']). */
  readonly plugins?: readonly string[];
  /** Workers' backend. Default 'auto' (wasm with @tempered/wasm-train kernels when available, else cpu). */
  readonly backend?: BackendPreference;
  readonly diagnostics?: DiagnosticsOptions | false;
  /** Adversarial examples kept per attack for the report's grids. Default 4. */
  readonly examplesPerAttack?: number;
  /** Gradient histograms measure the first this-many examples. Default min(N, 200). */
  readonly gradientExamples?: number;
  /**
   * Progress (e.g. for the CLI). With `step`, the message starts step `done + 1` of `total` (a clean
   * pass, an attack, a re-run or a sweep point, per model); without, it is a note (a part skipped).
   */
  readonly onProgress?: (message: string, step?: { done: number; total: number }) => void;
}

/** One attack run of the evaluation: its result key and configuration. */
export interface PlannedRun {
  readonly key: string;
  /** Its mode resolved (configured, else the attack's declared default). */
  readonly config: AttackConfig & { readonly mode: AttackMode };
  /** A margin-loss twin the diagnostics added (not re-run). */
  readonly margin?: boolean;
}

/** ε fractions of the input range the sweep uses by default. */
export const DEFAULT_SWEEP_EPSILONS = [0.05, 0.1, 0.2, 0.3, 0.5, 1];

/** Unique result keys for configured attacks. */
export function attackKeys(attacks: readonly AttackConfig[]): string[] {
  const seen = new Map<string, number>();
  return attacks.map((a) => {
    if (a.key) {
      if (seen.has(a.key)) throw new ConfigError(`attacks.${a.key}`, 'duplicate key');
      seen.set(a.key, 1);
      return a.key;
    }
    const n = (seen.get(a.name) ?? 0) + 1;
    seen.set(a.name, n);
    return n === 1 ? a.name : `${a.name}-${n}`;
  });
}

/** The check settings, or undefined when the checks are off. */
export function diagnosticsOf(options: EvaluationOptions): DiagnosticsOptions | undefined {
  return options.diagnostics === false ? undefined : (options.diagnostics ?? {});
}

/** The ε-sweep settings, or undefined when the checks or the sweep are off. */
export function sweepOf(diagnostics: DiagnosticsOptions | undefined): SweepOptions | undefined {
  return diagnostics && diagnostics.sweep !== false ? (diagnostics.sweep ?? {}) : undefined;
}

/** The re-run settings, or undefined when the checks or the re-runs are off. */
export function rerunsOf(diagnostics: DiagnosticsOptions | undefined): RerunOptions | undefined {
  return diagnostics && diagnostics.reruns !== false ? (diagnostics.reruns ?? {}) : undefined;
}

/** The attack of a configuration, or undefined when its params do not build it (its own run then reports why). */
export function tryCreateAttack(container: DependencyContainer, config: Pick<AttackConfig, 'name' | 'params'>): Attack | undefined {
  try {
    return createPlugin(container, TOKENS.Attack, config.name, config.params ?? {});
  } catch {
    return undefined;
  }
}

/** The configuration with its mode resolved: the configured one, else the attack's declared default. */
export function withMode(container: DependencyContainer, config: AttackConfig): AttackConfig & { readonly mode: AttackMode } {
  if (config.mode !== undefined) return config as AttackConfig & { readonly mode: AttackMode };
  const attack = tryCreateAttack(container, config);
  return { ...config, mode: attack ? attackTraits(attack).defaultMode : 'untargeted' };
}

/**
 * The attack the ε sweep follows by default: the first configured untargeted attack that is
 * bounded, white-box, iterative and not an ensemble, as its traits declare.
 */
export function defaultSweepAttack(options: EvaluationOptions): AttackConfig | undefined {
  return options.attacks.find((config) => {
    if (withMode(options.container, config).mode !== 'untargeted') return false;
    const attack = tryCreateAttack(options.container, config);
    if (!attack) return false;
    const traits = attackTraits(attack);
    return !traits.minimumDistortion && !traits.blackBox && !traits.singleStep && !traits.ensemble;
  });
}

/** The configured attacks (modes resolved) plus the margin-loss twins, in the order they run. */
export function plannedRuns(options: EvaluationOptions, keys: readonly string[]): PlannedRun[] {
  const runs = options.attacks.map((config, i) => ({ key: keys[i]!, config: withMode(options.container, config) }));
  const diagnostics = diagnosticsOf(options);
  return diagnostics ? [...runs, ...marginRuns(options, runs, diagnostics)] : runs;
}

/** Margin-loss twins of the configured untargeted runs whose attack declares one. */
function marginRuns(options: EvaluationOptions, runs: readonly PlannedRun[], diagnostics: DiagnosticsOptions): PlannedRun[] {
  const setting = diagnostics.marginAttack ?? 'auto';
  if (setting === false) return [];
  if (setting !== 'auto') return [{ key: setting.key ?? `${setting.name}-margin`, config: withMode(options.container, setting), margin: true }];
  const out: PlannedRun[] = [];
  for (const { key, config } of runs) {
    if (config.mode !== 'untargeted') continue;
    const attack = tryCreateAttack(options.container, config);
    const params = attack ? attackTraits(attack).marginTwin?.(config.params ?? {}) : undefined;
    // Without a twin the stronger-attack check relies on the minimum-distortion attacks alone.
    if (!params || !tryCreateAttack(options.container, { name: config.name, params })) continue;
    out.push({ key: `${key}-margin`, config: { ...config, key: `${key}-margin`, params }, margin: true });
  }
  return out;
}
