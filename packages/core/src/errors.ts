/**
 * Typed errors. Each carries a one-line message that names the field or file and what was
 * expected; the CLI prints `message` alone (no stack) and exits non-zero.
 */
export class TemperedError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Invalid configuration or plugin parameters: names the field and what was expected; the message
 * is `field: expected`.
 *
 * @example
 * ```ts
 * if (!(params.alpha >= 0)) throw new ConfigError('alp.alpha', 'expected a number ≥ 0');
 * ```
 */
export class ConfigError extends TemperedError {
  constructor(
    readonly field: string,
    expected: string,
  ) {
    super(`${field}: ${expected}`);
  }
}

/** Missing, malformed or corrupted dataset file: names the file. */
export class DatasetError extends TemperedError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** Model files or model compatibility problems (missing weights, shape mismatch). */
export class ModelError extends TemperedError {}

/** Unknown plugin name or duplicate registration. */
export class RegistryError extends TemperedError {}

/** NaN or Inf in a loss or weights; names model, epoch and batch (the caller says which checkpoint, if any, is kept). */
export class NumericError extends TemperedError {
  constructor(
    readonly model: string,
    readonly epoch: number,
    readonly batch: number,
    what: string,
  ) {
    super(`${what} is not finite in model "${model}" at epoch ${epoch}, batch ${batch}: training diverged`);
  }
}

/**
 * An error thrown inside a method's training step, with where it happened: model, phase, epoch and batch
 * (both 0-based, as in checkpoints and logs). The original error is kept as `cause`; set
 * `TEMPERED_DEBUG=1` to have the CLI print its stack.
 */
export class TrainingStepError extends TemperedError {
  constructor(
    readonly model: string,
    readonly phase: string,
    readonly epoch: number,
    readonly batch: number,
    cause: unknown,
  ) {
    super(`model "${model}", phase "${phase}", epoch ${epoch}, batch ${batch}: ${oneLineError(cause)}`, { cause });
  }
}

/** A run output directory that would be overwritten. */
export class OutputExistsError extends TemperedError {}

/** Formats any thrown value as one line (TemperedError messages as they are). */
export function oneLineError(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] ?? error.name;
  return String(error).split('\n')[0] ?? 'unknown error';
}
