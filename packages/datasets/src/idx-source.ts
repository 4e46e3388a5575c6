import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type DatasetSource, type ParamValues } from '@tempered/core';
import type { ArrayDatasetSplits } from './files.js';
import { loadIdxSplits } from './idx.js';

export const IDX_PARAMS = defineParams({
  dir: { type: 'string', default: 'data/mnist', description: 'Directory holding train-/t10k- IDX image and label files (raw or .gz)' },
  name: { type: 'string', default: 'idx', description: 'Name the splits report (e.g. "mnist", "kmnist")' },
  numClasses: { type: 'number', default: 10, integer: true, min: 2, max: 256, description: 'Number of classes; labels must lie in [0, numClasses)' },
  trainSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N training examples (0: all)' },
  testSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N test examples (0: all)' },
});

export type IdxParams = ParamValues<typeof IDX_PARAMS>;

/**
 * MNIST-layout IDX files from a directory (LeCun et al., "Gradient-based learning applied to
 * document recognition", 1998; file format at yann.lecun.com/exdb/mnist). Reads the official
 * names `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
 * `t10k-labels-idx1-ubyte`, raw or gzipped. Headers are validated against the file sizes
 * (magic 0x00000803 / 0x00000801), image and label counts must agree and labels must lie in
 * [0, numClasses); any problem is a one-line `DatasetError` naming the file.
 *
 * Parameters: `dir` ('data/mnist'), `name` ('idx'), `numClasses` (10), `trainSize` (0 = all),
 * `testSize` (0 = all).
 *
 * Shapes: images [rows, cols, 1] float32 in [0, 1] (byte / 255); labels int32.
 *
 * @example
 * ```ts
 * const splits = await createPlugin(container, TOKENS.Dataset, 'idx', { dir: '/data/mnist', name: 'mnist' }).load();
 * splits.train.inputShape; // [28, 28, 1]
 * ```
 */
@injectable()
export class IdxSource implements DatasetSource {
  readonly name: string;
  readonly params: IdxParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown> = {}) {
    this.params = validateParams('idx', IDX_PARAMS, params);
    this.name = this.params.name;
  }

  async load(): Promise<ArrayDatasetSplits> {
    const { dir, name, numClasses, trainSize, testSize } = this.params;
    return loadIdxSplits(dir, { name, numClasses, trainSize, testSize });
  }
}
