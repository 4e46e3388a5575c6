import * as tf from '@tensorflow/tfjs';
import { Rng, deriveSeed, type Model } from '@tempered/core';
import { Apgd } from './apgd.js';
import { AutoAttack } from './autoattack.js';
import { Fab } from './fab.js';
import { Pgd } from './pgd.js';
import { Square } from './square.js';

export interface PgdThroughputOptions {
  /** Images per batch. Default 32. */
  readonly batch?: number;
  /** PGD iterations. Default 40 (PGD-40). */
  readonly steps?: number;
  /** L∞ radius. Default 0.3. */
  readonly epsilon?: number;
  /** Step size. Default 0.01. */
  readonly stepSize?: number;
  /** Timed repetitions after one untimed warm-up batch. Default 1. */
  readonly repeats?: number;
  readonly seed?: number;
}

export interface PgdThroughput {
  readonly backend: string;
  readonly batch: number;
  readonly steps: number;
  readonly repeats: number;
  readonly seconds: number;
  /** Adversarial images produced per second. */
  readonly imagesPerSecond: number;
  /** Forward+backward passes per second (imagesPerSecond × steps). */
  readonly gradientStepsPerSecond: number;
}

/**
 * Measures PGD L∞ throughput on random inputs within the model's bounds (for `tempered bench`).
 *
 * @example
 * const { imagesPerSecond } = await pgdThroughput(model, { batch: 32, steps: 40 });
 */
export async function pgdThroughput(model: Model, options: PgdThroughputOptions = {}): Promise<PgdThroughput> {
  const { batch = 32, steps = 40, epsilon = 0.3, stepSize = 0.01, repeats = 1, seed = 0 } = options;
  const rng = new Rng(deriveSeed(seed, 'pgd-throughput'));
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.uniformArray(batch * size, model.bounds.min, model.bounds.max), [batch, ...model.inputShape]);
  const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(model.numClasses)), 'int32');
  const attack = new Pgd({ norm: 'linf', epsilon, stepSize, steps, seed });
  try {
    const warm = await new Pgd({ norm: 'linf', epsilon, stepSize, steps: 1, seed }).generate(model, x, y);
    warm.dispose();
    const start = performance.now();
    for (let r = 0; r < repeats; r++) {
      const adversarial = await attack.generate(model, x, y);
      await adversarial.data();
      adversarial.dispose();
    }
    const seconds = (performance.now() - start) / 1000;
    const imagesPerSecond = (batch * repeats) / seconds;
    return { backend: tf.getBackend(), batch, steps, repeats, seconds, imagesPerSecond, gradientStepsPerSecond: imagesPerSecond * steps };
  } finally {
    x.dispose();
    y.dispose();
  }
}

export interface AutoAttackThroughputOptions {
  /** Images per batch. Default 32. */
  readonly batch?: number;
  /** L∞ radius. Default 0.3. */
  readonly epsilon?: number;
  /** Square queries timed to estimate the cost of one query. Default 50. */
  readonly squareQueries?: number;
  readonly seed?: number;
}

export interface AutoAttackThroughput {
  readonly backend: string;
  readonly batch: number;
  /** Wall time of standard AutoAttack on the batch. */
  readonly seconds: number;
  /** Images per second of that run; on an untrained model APGD-CE breaks almost everything, so this is the cheap end. */
  readonly imagesPerSecond: number;
  /** Fraction of the batch still robust after the run. */
  readonly robustFraction: number;
  /** The components that ran. */
  readonly ran: readonly string[];
  /** One APGD iteration (forward + backward) on the whole batch, ms. */
  readonly apgdIterationMs: number;
  /** One FAB-T iteration on the whole batch, ms. */
  readonly fabIterationMs: number;
  /** One Square query (a forward) on the whole batch, ms. */
  readonly squareQueryMs: number;
  /**
   * Images per second when every example stays robust to the end (a robust model): 100 APGD-CE
   * iterations, 9 × 100 APGD-T iterations, 9 × 100 FAB-T iterations and 5000 Square queries per
   * image, from the timings above.
   */
  readonly worstCaseImagesPerSecond: number;
}

/**
 * Measures standard AutoAttack (L∞) on random inputs labelled with the model's own predictions
 * (for `tempered bench`). Its cost depends on how many examples stay robust, so both ends are
 * reported: the measured run on the given (usually untrained) model, and the all-robust worst case
 * from the per-iteration and per-query timings.
 *
 * @example
 * const { imagesPerSecond, worstCaseImagesPerSecond } = await autoattackThroughput(model, { batch: 32 });
 */
export async function autoattackThroughput(model: Model, options: AutoAttackThroughputOptions = {}): Promise<AutoAttackThroughput> {
  const { batch = 32, epsilon = 0.3, squareQueries = 50, seed = 0 } = options;
  const rng = new Rng(deriveSeed(seed, 'autoattack-throughput'));
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(rng.uniformArray(batch * size, model.bounds.min, model.bounds.max), [batch, ...model.inputShape]);
  const y = tf.tidy(() => tf.argMax(model.logits(x), 1).toInt() as tf.Tensor1D);
  const timed = async <T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> => {
    const start = performance.now();
    const value = await run();
    return { value, ms: performance.now() - start };
  };
  try {
    (await new Apgd({ epsilon, steps: 1 }).generate(model, x, y)).dispose(); // warm-up
    const full = await timed(() => new AutoAttack({ epsilon, seed }).run(model, x, y));
    full.value.adversarial.dispose();
    const robust = full.value.brokenBy!.filter((b) => b === null).length;
    // APGD's cost does not depend on success (it never stops early); 10 iterations + the start gradient.
    const apgd = await timed(() => new Apgd({ epsilon, steps: 10, seed }).generate(model, x, y));
    apgd.value.dispose();
    // With ε = 0 no example can be broken, so Square spends every query.
    const square = await timed(() => new Square({ epsilon: 0, queries: squareQueries, seed }).generate(model, x, y));
    square.value.dispose();
    // One target's run: every example iterates to its end. 10 iterations + the clean pass.
    const fab = await timed(() => new Fab({ epsilon, steps: 10, targetClasses: 1 }).generate(model, x, y));
    fab.value.dispose();
    const apgdIterationMs = apgd.ms / 11;
    const fabIterationMs = fab.ms / 10;
    const squareQueryMs = square.ms / squareQueries;
    const worstMs = apgdIterationMs * (101 + 9 * 101) + fabIterationMs * 9 * 100 + squareQueryMs * 5000;
    return {
      backend: tf.getBackend(),
      batch,
      seconds: full.ms / 1000,
      imagesPerSecond: batch / (full.ms / 1000),
      robustFraction: robust / batch,
      ran: full.value.ran ?? [],
      apgdIterationMs,
      fabIterationMs,
      squareQueryMs,
      worstCaseImagesPerSecond: batch / (worstMs / 1000),
    };
  } finally {
    x.dispose();
    y.dispose();
  }
}

export interface AttackIterationOptions {
  /** Iterations (queries for Square) of the shorter timed run; the longer runs twice as many. Default 10. */
  readonly iterations?: number;
  /** L∞ radius of APGD and FAB-T's budget. Default 0.3. */
  readonly epsilon?: number;
  /**
   * A process CPU clock in ms (Node: user + system of `process.cpuUsage()`); when given, each
   * figure is also reported in CPU time, which other load on a shared machine moves far less.
   */
  readonly cpuClock?: () => number;
}

/** Wall and process CPU milliseconds of one attack call with `iterations` and with 2 × `iterations` steps. */
export interface IterationTimings {
  readonly shortMs: number;
  readonly longMs: number;
  readonly shortCpuMs: number;
  readonly longCpuMs: number;
}

/** Milliseconds per iteration on the whole batch, setup excluded, with the timings they come from. */
export interface AttackIterationCosts {
  readonly backend: string;
  readonly batch: number;
  readonly iterations: number;
  /** One APGD-CE iteration: forward + backward, momentum step, projection, best-point bookkeeping. */
  readonly apgdIterationMs: number;
  /** One FAB-T iteration: the target's linearised boundary (forward + backward), two projections per example, the biased step, a forward to test it. */
  readonly fabIterationMs: number;
  /** One Square query: a random square per example and a forward. */
  readonly squareQueryMs: number;
  /** The same three figures in process CPU time, when a `cpuClock` was given. */
  readonly cpu?: { readonly apgdIterationMs: number; readonly fabIterationMs: number; readonly squareQueryMs: number };
  /** The raw timings, so rounds can be combined with {@link perIteration}. */
  readonly timings: { readonly apgd: IterationTimings; readonly fab: IterationTimings; readonly square: IterationTimings };
}

/**
 * Per-iteration wall and CPU ms from several rounds of {@link IterationTimings}: the fastest short
 * run and the fastest long run (each the least disturbed by other load), (long − short) / iterations.
 */
export function perIteration(rounds: readonly IterationTimings[], iterations: number): { wallMs: number; cpuMs: number } {
  const fastest = (key: keyof IterationTimings) => Math.min(...rounds.map((r) => r[key]));
  return {
    wallMs: Math.max(fastest('longMs') - fastest('shortMs'), 0) / iterations,
    cpuMs: Math.max(fastest('longCpuMs') - fastest('shortCpuMs'), 0) / iterations,
  };
}

/**
 * The cost of one iteration of APGD-CE, FAB-T and Square (L∞) on a batch, for `tempered bench`:
 * each attack runs `iterations` and 2 × `iterations` steps and the difference is divided by
 * `iterations`, so the per-call setup (clean pass, tensor uploads) cancels. None of the three stops
 * early on this measurement: APGD never does, FAB-T runs one target (every example iterates to the
 * end of a run), and Square gets ε = 0, which no example survives to success. x and y belong to the
 * caller; y is usually the model's own prediction.
 *
 * @example
 * const costs = await attackIterationCosts(model, x, y, { iterations: 10 });
 */
export async function attackIterationCosts(model: Model, x: tf.Tensor, y: tf.Tensor1D, options: AttackIterationOptions = {}): Promise<AttackIterationCosts> {
  const { iterations = 10, epsilon = 0.3, cpuClock } = options;
  const measure = async (make: (count: number) => { generate: (m: Model, x: tf.Tensor, y: tf.Tensor1D) => Promise<tf.Tensor> }): Promise<IterationTimings> => {
    const time = async (count: number): Promise<{ wall: number; cpu: number }> => {
      const start = { wall: performance.now(), cpu: cpuClock?.() ?? 0 };
      const adversarial = await make(count).generate(model, x, y);
      await adversarial.data();
      adversarial.dispose();
      return { wall: performance.now() - start.wall, cpu: (cpuClock?.() ?? 0) - start.cpu };
    };
    await time(1); // warm-up: operator creation, memory growth
    const short = await time(iterations);
    const long = await time(2 * iterations);
    return { shortMs: short.wall, longMs: long.wall, shortCpuMs: short.cpu, longCpuMs: long.cpu };
  };
  const timings = {
    apgd: await measure((steps) => new Apgd({ epsilon, steps, loss: 'ce' })),
    fab: await measure((steps) => new Fab({ epsilon, steps, targetClasses: 1 })),
    square: await measure((queries) => new Square({ epsilon: 0, queries })),
  };
  const [apgd, fab, square] = [timings.apgd, timings.fab, timings.square].map((t) => perIteration([t], iterations));
  return {
    backend: tf.getBackend(),
    batch: x.shape[0]!,
    iterations,
    apgdIterationMs: apgd!.wallMs,
    fabIterationMs: fab!.wallMs,
    squareQueryMs: square!.wallMs,
    ...(cpuClock ? { cpu: { apgdIterationMs: apgd!.cpuMs, fabIterationMs: fab!.cpuMs, squareQueryMs: square!.cpuMs } } : {}),
    timings,
  };
}
