import type { EvaluationOptions } from './options.js';

/** Where the evaluation reports: steps advance the count, notes do not. */
export interface ProgressSink {
  step(message: string): void;
  note(message: string): void;
  /** Moves the count to `done` (a model's first step), so a skipped part does not shift the next model. */
  moveTo(done: number): void;
}

/** A sink over `onProgress` with a known total of steps (clean passes, attacks, re-runs, sweep points). */
export function progressSink(onProgress: EvaluationOptions['onProgress'], total: number): ProgressSink {
  const report = onProgress ?? (() => {});
  let done = 0;
  return {
    step: (message) => report(message, { done: done++, total }),
    note: (message) => report(message),
    moveTo: (value) => {
      done = value;
    },
  };
}
