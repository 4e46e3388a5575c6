import { ArrayDataset, DatasetError } from '@tempered/core';
import { findFile, readDatasetFile, requireDirectory, type ArrayDatasetSplits } from './files.js';

/** IDX magic numbers: 0x0000 + data type 0x08 (unsigned byte) + number of dimensions. */
export const IDX_IMAGES_MAGIC = 0x00000803;
export const IDX_LABELS_MAGIC = 0x00000801;

/** Images parsed from an IDX3 file: `count` images of `rows × cols` unsigned bytes, row-major. */
export interface IdxImages {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/**
 * Parses an IDX3 image file (magic 0x00000803, then big-endian count, rows, cols, then
 * count·rows·cols bytes). The byte length must match the header exactly.
 */
export function parseIdxImages(bytes: Uint8Array, file: string): IdxImages {
  // Magic first: a swapped or foreign file should say so rather than "truncated".
  const header = view(bytes);
  const magic = bytes.length >= 4 ? header.getUint32(0) : undefined;
  if (magic !== undefined && magic !== IDX_IMAGES_MAGIC) {
    throw new DatasetError(file, `bad magic number ${hex(magic)}; expected ${hex(IDX_IMAGES_MAGIC)} (IDX3 unsigned-byte images)`);
  }
  if (bytes.length < 16) throw new DatasetError(file, `truncated: ${bytes.length} bytes, expected at least a 16-byte IDX3 header`);
  const count = header.getUint32(4);
  const rows = header.getUint32(8);
  const cols = header.getUint32(12);
  if (rows === 0 || cols === 0) throw new DatasetError(file, `image size ${rows}×${cols} in the header; expected positive dimensions`);
  const expected = 16 + count * rows * cols;
  if (bytes.length < expected) {
    throw new DatasetError(file, `truncated: header declares ${count} images of ${rows}×${cols} (${expected} bytes) but the file has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    throw new DatasetError(file, `${bytes.length - expected} unexpected trailing bytes after ${count} images of ${rows}×${cols}`);
  }
  return { count, rows, cols, pixels: bytes.subarray(16) };
}

/**
 * Parses an IDX1 label file (magic 0x00000801, big-endian count, then count bytes); every
 * label must be in [0, numClasses).
 */
export function parseIdxLabels(bytes: Uint8Array, file: string, numClasses = 10): Int32Array {
  const header = view(bytes);
  const magic = bytes.length >= 4 ? header.getUint32(0) : undefined;
  if (magic !== undefined && magic !== IDX_LABELS_MAGIC) {
    throw new DatasetError(file, `bad magic number ${hex(magic)}; expected ${hex(IDX_LABELS_MAGIC)} (IDX1 unsigned-byte labels)`);
  }
  if (bytes.length < 8) throw new DatasetError(file, `truncated: ${bytes.length} bytes, expected at least an 8-byte IDX1 header`);
  const count = header.getUint32(4);
  const expected = 8 + count;
  if (bytes.length < expected) {
    throw new DatasetError(file, `truncated: header declares ${count} labels (${expected} bytes) but the file has ${bytes.length}`);
  }
  if (bytes.length > expected) throw new DatasetError(file, `${bytes.length - expected} unexpected trailing bytes after ${count} labels`);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = bytes[8 + i]!;
    if (label >= numClasses) throw new DatasetError(file, `label ${label} of example ${i} is outside [0, ${numClasses})`);
    labels[i] = label;
  }
  return labels;
}

export interface IdxPairOptions {
  /** Dataset name (e.g. "fashion-mnist:train"). */
  readonly name: string;
  readonly numClasses?: number;
  /** Keep only the first `limit` examples (0 or omitted: all). Files are validated in full. */
  readonly limit?: number;
}

/** Loads a matching IDX images + labels pair into an {@link ArrayDataset} of [rows, cols, 1] images in [0, 1]. */
export function loadIdxPair(imagesFile: string, labelsFile: string, options: IdxPairOptions): ArrayDataset {
  const numClasses = options.numClasses ?? 10;
  const images = parseIdxImages(readDatasetFile(imagesFile), imagesFile);
  const labels = parseIdxLabels(readDatasetFile(labelsFile), labelsFile, numClasses);
  if (images.count !== labels.length) {
    throw new DatasetError(labelsFile, `${labels.length} labels but ${imagesFile} has ${images.count} images; expected equal counts`);
  }
  const count = options.limit ? Math.min(options.limit, images.count) : images.count;
  const pixelCount = count * images.rows * images.cols;
  const pixels = new Float32Array(pixelCount);
  for (let i = 0; i < pixelCount; i++) pixels[i] = images.pixels[i]! / 255;
  return new ArrayDataset(options.name, pixels, labels.slice(0, count), [images.rows, images.cols, 1], numClasses);
}

/** File names tried for each part, in order: the official `-idx3-ubyte` names, the `.idx3-ubyte` variant, gzipped or raw. */
export function idxFileCandidates(prefix: 'train' | 't10k', kind: 'images' | 'labels'): string[] {
  const ext = kind === 'images' ? 'idx3-ubyte' : 'idx1-ubyte';
  const stems = [`${prefix}-${kind}-${ext}`, `${prefix}-${kind}.${ext}`];
  return stems.flatMap((stem) => [stem, `${stem}.gz`]);
}

export interface IdxSplitsOptions {
  readonly name?: string;
  readonly numClasses?: number;
  /** First examples of the training set to keep (0: all). */
  readonly trainSize?: number;
  /** First examples of the test set to keep (0: all). */
  readonly testSize?: number;
  /** Appended to the "directory not found" message (e.g. how to install the data). */
  readonly missingHint?: string;
}

/**
 * Loads MNIST-layout IDX files from `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (each optionally `.gz`; the
 * `train-images.idx3-ubyte` spelling is accepted too).
 */
export function loadIdxSplits(dir: string, options: IdxSplitsOptions = {}): ArrayDatasetSplits {
  const name = options.name ?? 'idx';
  requireDirectory(dir, options.missingHint ?? 'expected a directory with train-/t10k- IDX image and label files');
  const part = (prefix: 'train' | 't10k', limit: number | undefined, split: string): ArrayDataset =>
    loadIdxPair(findFile(dir, idxFileCandidates(prefix, 'images')), findFile(dir, idxFileCandidates(prefix, 'labels')), {
      name: `${name}:${split}`,
      numClasses: options.numClasses,
      limit,
    });
  return { name, train: part('train', options.trainSize, 'train'), test: part('t10k', options.testSize, 'test') };
}
