import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import {
  ArrayDataset,
  DatasetError,
  TOKENS,
  defineParams,
  validateParams,
  type DatasetSource,
  type ParamValues,
} from '@tempered/core';
import { readDatasetFile, requireDirectory, type ArrayDatasetSplits } from './files.js';

/** CIFAR-10 images are 32×32 RGB; a binary record is 1 label byte + 3 planes of 1024 bytes. */
export const CIFAR_SIDE = 32;
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE * 3;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_PIXELS;
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const CIFAR10_TEST_FILE = 'test_batch.bin';

/** CIFAR-10 class names, by label. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** Examples parsed from CIFAR-10 binary batches: HWC float32 pixels in [0, 1] and int32 labels. */
export interface CifarRecords {
  readonly images: Float32Array;
  readonly labels: Int32Array;
}

/**
 * Parses one CIFAR-10 binary batch: records of 1 label byte (0–9) then 3072 pixel bytes as
 * channel planes (1024 R, 1024 G, 1024 B, each row-major), converted to HWC in [0, 1].
 * Keeps at most `limit` records (the whole file is still validated).
 */
export function parseCifarBatch(bytes: Uint8Array, file: string, limit = Infinity): CifarRecords {
  if (bytes.length === 0) throw new DatasetError(file, `empty file; expected records of ${CIFAR_RECORD_BYTES} bytes`);
  if (bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new DatasetError(
      file,
      `truncated: ${bytes.length} bytes is not a multiple of the ${CIFAR_RECORD_BYTES}-byte record (${whole} whole records + ${bytes.length % CIFAR_RECORD_BYTES} bytes)`,
    );
  }
  const total = bytes.length / CIFAR_RECORD_BYTES;
  for (let r = 0; r < total; r++) {
    const label = bytes[r * CIFAR_RECORD_BYTES]!;
    if (label > 9) throw new DatasetError(file, `label ${label} of record ${r} is outside [0, 10)`);
  }
  const count = Math.min(total, limit);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const images = new Float32Array(count * CIFAR_PIXELS);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const record = r * CIFAR_RECORD_BYTES;
    labels[r] = bytes[record]!;
    const out = r * CIFAR_PIXELS;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) images[out + p * 3 + c] = bytes[record + 1 + c * plane + p]! / 255;
    }
  }
  return { images, labels };
}

/** Concatenates batches from `files` until `limit` examples (0: all) into one dataset. */
export function loadCifarFiles(files: readonly string[], name: string, limit = 0): ArrayDataset {
  const wanted = limit > 0 ? limit : Infinity;
  const parts: CifarRecords[] = [];
  let have = 0;
  for (const file of files) {
    if (have >= wanted) break;
    const part = parseCifarBatch(readDatasetFile(file), file, wanted - have);
    parts.push(part);
    have += part.labels.length;
  }
  const images = new Float32Array(have * CIFAR_PIXELS);
  const labels = new Int32Array(have);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * CIFAR_PIXELS);
    labels.set(part.labels, offset);
    offset += part.labels.length;
  }
  return new ArrayDataset(name, images, labels, [CIFAR_SIDE, CIFAR_SIDE, 3], 10);
}

export const CIFAR10_PARAMS = defineParams({
  dir: { type: 'string', default: 'data/cifar-10-batches-bin', description: 'Directory with data_batch_1..5.bin and test_batch.bin' },
  trainSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N of the 50,000 training examples (0: all)' },
  testSize: { type: 'number', default: 0, integer: true, min: 0, description: 'Keep the first N of the 10,000 test examples (0: all)' },
});

export type Cifar10Params = ParamValues<typeof CIFAR10_PARAMS>;

/**
 * CIFAR-10 (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009) from
 * the official binary distribution (`cifar-10-binary.tar.gz`, extracted: `data_batch_1.bin` …
 * `data_batch_5.bin` form the 50,000-image training set, `test_batch.bin` the 10,000-image
 * test set). Each record is 1 label byte + 3072 pixel bytes in R, G, B planes, converted here
 * to HWC. A file whose size is not a multiple of 3073 bytes, or a label above 9, is a
 * `DatasetError` naming the file. Only the batches needed for `trainSize` are read.
 *
 * Parameters: `dir` ('data/cifar-10-batches-bin'), `trainSize` (0 = all), `testSize` (0 = all).
 *
 * Shapes: images [32, 32, 3] float32 in [0, 1]; labels int32 in [0, 10) ({@link CIFAR10_CLASSES}).
 *
 * @example
 * ```ts
 * const { train } = await createPlugin(container, TOKENS.Dataset, 'cifar10', { dir: '/data/cifar-10-batches-bin' }).load();
 * train.inputShape; // [32, 32, 3]
 * ```
 */
@injectable()
export class Cifar10Source implements DatasetSource {
  readonly name = 'cifar10';
  readonly params: Cifar10Params;

  constructor(@inject(TOKENS.PluginParams) params: Record<string, unknown> = {}) {
    this.params = validateParams('cifar10', CIFAR10_PARAMS, params);
  }

  async load(): Promise<ArrayDatasetSplits> {
    return loadCifar10(this.params.dir, this.params);
  }
}

/** Loads CIFAR-10 binary batches from `dir` (see {@link Cifar10Source}). */
export function loadCifar10(dir: string, options: { trainSize?: number; testSize?: number } = {}): ArrayDatasetSplits {
  requireDirectory(dir, 'expected the extracted cifar-10-batches-bin directory (data_batch_1..5.bin, test_batch.bin)');
  return {
    name: 'cifar10',
    train: loadCifarFiles(CIFAR10_TRAIN_FILES.map((f) => join(dir, f)), 'cifar10:train', options.trainSize ?? 0),
    test: loadCifarFiles([join(dir, CIFAR10_TEST_FILE)], 'cifar10:test', options.testSize ?? 0),
  };
}
