import * as tf from '@tensorflow/tfjs';
import { median } from '@tempered/core';

/** Options for {@link benchPapernotCnn}. */
export interface BenchOptions {
  /** Backend to time; `'tensorflow'` needs `@tensorflow/tfjs-node` registered by the caller. */
  backend: 'wasm' | 'cpu' | 'tensorflow';
  /** Images per step. Default 128. */
  batch?: number;
  /** Timed repetitions of each measurement; the median is reported. Default 10. */
  iterations?: number;
  /** Untimed repetitions first (operator creation, heap growth). Default 2. */
  warmup?: number;
  /** Also time one train step and one input gradient per kernel with `tf.profile`. Default false. */
  profile?: boolean;
  /** Also time 40-step PGD (input gradient + sign step + projection) in images per second. Default false. */
  pgd?: boolean;
  /** Skip the train step (reported as NaN), e.g. for stock tfjs-backend-wasm, which cannot train conv nets. */
  skipTrainStep?: boolean;
}

/** Per-kernel milliseconds summed over one call, largest first. */
export type KernelProfile = Record<string, number>;

/** Medians from {@link benchPapernotCnn}. */
export interface BenchResult {
  backend: string;
  batch: number;
  /** One SGD-with-momentum(0.9) step on softmax cross-entropy, ms. */
  trainStepMs: number;
  /** One forward pass to logits, ms. */
  forwardMs: number;
  /** Gradient of the loss with respect to the input images, ms. */
  inputGradMs: number;
  /** 40-step L∞ PGD throughput, when `pgd` was asked for. */
  pgd40ImagesPerSec?: number;
  /**
   * The same medians in process CPU time (user + system). On a shared machine wall time swings with other
   * load; CPU time of a single-threaded run does far less, so ratios against PyTorch use both.
   */
  cpuMs: { trainStep: number; forward: number; inputGrad: number };
  /** Per-kernel time for one train step and one input gradient, when `profile` was asked for. */
  profile?: { trainStep: KernelProfile; inputGrad: KernelProfile };
}

/**
 * The Papernot et al. (2016) MNIST CNN: conv3x3·32 → conv3x3·32 → maxpool2 → conv3x3·64 → conv3x3·64 →
 * maxpool2 → flatten → dense200 → dense200 → dense10 (logits), ReLU, 'valid' convolutions. Kept local so
 * the benchmark does not depend on the model zoo.
 */
export function papernotMnistCnn(): tf.LayersModel {
  const conv = (filters: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, activation: 'relu', padding: 'valid', ...(inputShape ? { inputShape } : {}) });
  return tf.sequential({
    layers: [
      conv(32, [28, 28, 1]),
      conv(32),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64),
      conv(64),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 200, activation: 'relu' }),
      tf.layers.dense({ units: 200, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface Timing {
  wall: number;
  cpu: number;
}

async function timeMedian(run: () => tf.Tensor | tf.Tensor[], iterations: number, warmup: number): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const wallStart = performance.now();
    const cpuStart = cpuNow();
    const out = run();
    const outs = Array.isArray(out) ? out : [out];
    for (const t of outs) await t.data();
    if (i >= warmup) {
      wall.push(performance.now() - wallStart);
      cpu.push(cpuNow() - cpuStart);
    }
    tf.dispose(outs);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

async function profileKernels(run: () => tf.Tensor | tf.Tensor[]): Promise<KernelProfile> {
  const info = await tf.profile(async () => {
    const out = run();
    const outs = Array.isArray(out) ? out : [out];
    for (const t of outs) await t.data();
    tf.dispose(outs);
  });
  const totals: KernelProfile = {};
  for (const kernel of info.kernels) {
    const ms = await kernel.kernelTimeMs;
    totals[kernel.name] = (totals[kernel.name] ?? 0) + (typeof ms === 'number' ? ms : 0);
  }
  return Object.fromEntries(Object.entries(totals).sort(([, a], [, b]) => b - a).map(([k, v]) => [k, Math.round(v * 10) / 10]));
}

/**
 * Times the Papernot MNIST CNN on one backend: medians of a training step (SGD, momentum 0.9, softmax
 * cross-entropy), a forward pass and an input gradient, on random images. Restores the previous backend.
 * The model, batch and step mirror `torchReference` so ratios compare like with like.
 *
 * @example
 * ```ts
 * import { benchPapernotCnn } from '@tempered/wasm-train';
 * const { trainStepMs, inputGradMs } = await benchPapernotCnn({ backend: 'wasm', batch: 128 });
 * ```
 */
export async function benchPapernotCnn(options: BenchOptions): Promise<BenchResult> {
  const { backend, batch = 128, iterations = 10, warmup = 2 } = options;
  const previous: string | null = tf.engine().backendName;
  if (!(await tf.setBackend(backend))) throw new Error(`benchPapernotCnn: backend '${backend}' is not available`);
  await tf.ready();
  const model = papernotMnistCnn();
  const optimizer = tf.train.momentum(0.01, 0.9);
  const images = tf.randomUniform([batch, 28, 28, 1]);
  const labels = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10));
  const loss = (x: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, model.apply(x) as tf.Tensor) as tf.Scalar;
  const inputGrad = tf.grad((x: tf.Tensor) => loss(x));

  const trainStep = () => optimizer.minimize(() => loss(images), true) as tf.Scalar;
  const forward = () => tf.tidy(() => model.apply(images) as tf.Tensor);
  const gradient = () => tf.tidy(() => inputGrad(images));
  try {
    const skipped: Timing = { wall: Number.NaN, cpu: Number.NaN };
    const train = options.skipTrainStep ? skipped : await timeMedian(trainStep, iterations, warmup);
    const fwd = await timeMedian(forward, iterations, warmup);
    const grad = await timeMedian(gradient, iterations, warmup);
    const result: BenchResult = {
      backend,
      batch,
      trainStepMs: train.wall,
      forwardMs: fwd.wall,
      inputGradMs: grad.wall,
      cpuMs: { trainStep: train.cpu, forward: fwd.cpu, inputGrad: grad.cpu },
    };
    if (options.pgd) {
      const steps = 40;
      const epsilon = 0.3;
      const stepSize = 0.01;
      const pgd = await timeMedian(
        () => {
          let adversarial = images.clone();
          for (let i = 0; i < steps; i++) {
            const next = tf.tidy(() => {
              const stepped = adversarial.add(inputGrad(adversarial).sign().mul(stepSize));
              return stepped.sub(images).clipByValue(-epsilon, epsilon).add(images).clipByValue(0, 1);
            });
            adversarial.dispose();
            adversarial = next;
          }
          return adversarial;
        },
        Math.max(1, Math.floor(iterations / 5)),
        0,
      );
      result.pgd40ImagesPerSec = (batch * 1000) / pgd.wall;
    }
    if (options.profile) {
      result.profile = {
        trainStep: options.skipTrainStep ? {} : await profileKernels(trainStep),
        inputGrad: await profileKernels(gradient),
      };
    }
    return result;
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
    if (previous && previous !== backend) await tf.setBackend(previous);
  }
}
