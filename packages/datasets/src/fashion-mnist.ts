import { inject, injectable } from 'tsyringe';
import { TOKENS, defineParams, validateParams, type DatasetSource, type ParamValues } from '@tempered/core';
import type { ArrayDatasetSplits } from './files.js';
import { loadIdxSplits } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package installs the official gzipped IDX files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST class names, by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

export const FASHION_MNIST_PARAMS = defineParams({
  dir: { type: 'string', default: FASHION_MNIST_DEBIAN_DIR, description: 'Directory with the Fashion-MNIST IDX files (raw or .gz)' },
  trainSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N of the 60,000 training examples (0: all)' },
  testSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N of the 10,000 test examples (0: all)' },
});

export type FashionMnistParams = ParamValues<typeof FASHION_MNIST_PARAMS>;

/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
 * Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017): 60,000 training and
 * 10,000 test 28×28 grey-scale images of 10 clothing classes ({@link FASHION_MNIST_CLASSES}),
 * in the official split. Reads the IDX files from `dir`, by default where
 * `apt-get install dataset-fashion-mnist` puts them; a missing directory is a `DatasetError`
 * naming it and the apt package.
 *
 * Parameters: `dir` ('/usr/share/datasets/fashion-mnist'), `trainSize` (0 = all),
 * `testSize` (0 = all).
 *
 * Shapes: images [28, 28, 1] float32 in [0, 1]; labels int32 in [0, 10).
 *
 * @example
 * ```ts
 * const { train, test } = await createPlugin(container, TOKENS.Dataset, 'fashion-mnist', { trainSize: 5000 }).load();
 * ```
 */
@injectable()
export class FashionMnistSource implements DatasetSource {
  readonly name = 'fashion-mnist';
  readonly params: FashionMnistParams;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown> = {}) {
    this.params = validateParams('fashion-mnist', FASHION_MNIST_PARAMS, params);
  }

  async load(): Promise<ArrayDatasetSplits> {
    const { dir, trainSize, testSize } = this.params;
    return loadIdxSplits(dir, {
      name: this.name,
      numClasses: 10,
      trainSize,
      testSize,
      missingHint: `install the Debian package with \`apt-get install dataset-fashion-mnist\` (it fills ${FASHION_MNIST_DEBIAN_DIR}) or set fashion-mnist.dir to a directory with the IDX files`,
    });
  }
}
