/**
 * @tempered/datasets: dataset sources as core `DatasetSource` plugins — embedded MNIST
 * (offline), IDX directories (MNIST, Fashion-MNIST), CIFAR-10 binary batches, and a seeded
 * synthetic generator. Every source returns `ArrayDataset` splits of float32 images in [0, 1]
 * (NHWC) and int32 labels.
 * @packageDocumentation
 */
export { register, loadDataset } from './register.js';
export {
  MnistSource,
  MNIST_PARAMS,
  loadEmbeddedMnist,
  stratifiedTrainCounts,
  EMBEDDED_MNIST_SIZE,
  EMBEDDED_MNIST_TRAIN_SIZE,
  EMBEDDED_MNIST_TEST_SIZE,
  EMBEDDED_MNIST_ORDER_SEED,
} from './mnist.js';
export type { MnistParams, EmbeddedMnistOptions } from './mnist.js';
export {
  parseIdxImages,
  parseIdxLabels,
  loadIdxPair,
  loadIdxSplits,
  idxFileCandidates,
  IDX_IMAGES_MAGIC,
  IDX_LABELS_MAGIC,
} from './idx.js';
export type { IdxImages, IdxPairOptions, IdxSplitsOptions } from './idx.js';
export { IdxSource, IDX_PARAMS } from './idx-source.js';
export type { IdxParams } from './idx-source.js';
export { FashionMnistSource, FASHION_MNIST_PARAMS, FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIR } from './fashion-mnist.js';
export type { FashionMnistParams } from './fashion-mnist.js';
export {
  Cifar10Source,
  CIFAR10_PARAMS,
  CIFAR10_CLASSES,
  CIFAR10_TRAIN_FILES,
  CIFAR10_TEST_FILE,
  CIFAR_RECORD_BYTES,
  parseCifarBatch,
  loadCifarFiles,
  loadCifar10,
} from './cifar10.js';
export type { Cifar10Params, CifarRecords } from './cifar10.js';
export { SyntheticSource, SYNTHETIC_PARAMS, syntheticSplits } from './synthetic.js';
export type { SyntheticParams } from './synthetic.js';
export { readDatasetFile } from './files.js';
export type { ArrayDatasetSplits } from './files.js';
