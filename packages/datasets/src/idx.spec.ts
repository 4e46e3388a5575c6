import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { ArrayDataset, DatasetError, Rng, TOKENS, createPlugin } from '@tempered/core';
import { ensureAptPackage, expectNoLeaks } from '../../core/src/testing.js';
import { loadIdxPair, loadIdxSplits, parseIdxImages, parseIdxLabels } from './idx.js';
import { FASHION_MNIST_DEBIAN_DIR } from './fashion-mnist.js';
import { register } from './register.js';

/** Encodes an IDX3 image file: magic, count, rows, cols (big-endian u32), then pixels. */
export function idxImagesFile(count: number, rows: number, cols: number, pixels: Uint8Array, magic = 0x00000803): Buffer {
  const out = Buffer.alloc(16 + pixels.length);
  out.writeUInt32BE(magic, 0);
  out.writeUInt32BE(count, 4);
  out.writeUInt32BE(rows, 8);
  out.writeUInt32BE(cols, 12);
  out.set(pixels, 16);
  return out;
}

/** Encodes an IDX1 label file. */
export function idxLabelsFile(labels: Uint8Array, magic = 0x00000801): Buffer {
  const out = Buffer.alloc(8 + labels.length);
  out.writeUInt32BE(magic, 0);
  out.writeUInt32BE(labels.length, 4);
  out.set(labels, 8);
  return out;
}

function randomBytes(rng: Rng, n: number, below = 256): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(below);
  return out;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tempered-idx-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeMnistDir(name: string, gz: boolean, train: { pixels: Uint8Array; labels: Uint8Array }, test: { pixels: Uint8Array; labels: Uint8Array }, rows = 4, cols = 3) {
  const dir = join(root, name);
  mkdirSync(dir);
  const put = (file: string, data: Buffer) => writeFileSync(join(dir, gz ? `${file}.gz` : file), gz ? gzipSync(data) : data);
  put('train-images-idx3-ubyte', idxImagesFile(train.labels.length, rows, cols, train.pixels));
  put('train-labels-idx1-ubyte', idxLabelsFile(train.labels));
  put('t10k-images-idx3-ubyte', idxImagesFile(test.labels.length, rows, cols, test.pixels));
  put('t10k-labels-idx1-ubyte', idxLabelsFile(test.labels));
  return dir;
}

describe('IDX loader', () => {
  it('round-trips random images and labels, raw and gzipped (property)', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rows, cols, nTrain, nTest, gz, seed) => {
          const rng = new Rng(seed);
          const train = { pixels: randomBytes(rng, nTrain * rows * cols), labels: randomBytes(rng, nTrain, 10) };
          const test = { pixels: randomBytes(rng, nTest * rows * cols), labels: randomBytes(rng, nTest, 10) };
          const dir = writeMnistDir(`prop-${run++}`, gz, train, test, rows, cols);
          const splits = loadIdxSplits(dir, { name: 'tiny' });
          expect(splits.train.inputShape).toEqual([rows, cols, 1]);
          expect(splits.train.size).toBe(nTrain);
          expect(splits.test.size).toBe(nTest);
          expect(Array.from(splits.train.labels)).toEqual(Array.from(train.labels));
          expect(Array.from(splits.test.labels)).toEqual(Array.from(test.labels));
          expect(Array.from(splits.test.images)).toEqual(Array.from(test.pixels, (b) => Math.fround(b / 255)));
          for (const v of splits.train.images) expect(v >= 0 && v <= 1).toBe(true);
        },
      ),
      { numRuns: 25, seed: 11 },
    );
  });

  it('keeps pixel layout row-major as [rows, cols, 1] and gathers batches without leaks', async () => {
    const pixels = Uint8Array.from({ length: 2 * 2 * 3 }, (_, i) => i * 20);
    const dir = writeMnistDir('layout', false, { pixels, labels: Uint8Array.from([3, 7]) }, { pixels, labels: Uint8Array.from([1, 2]) }, 2, 3);
    const { train } = loadIdxSplits(dir);
    await expectNoLeaks(() => {
      const { x, labels } = train.batch([1]);
      expect(x.shape).toEqual([1, 2, 3, 1]);
      const values = x.arraySync() as number[][][][];
      // Second image, row 1, col 2 is byte 6 + 5 = 11 → 220.
      expect(values[0]![1]![2]![0]).toBeCloseTo(220 / 255, 6);
      expect(Array.from(labels.dataSync())).toEqual([7]);
      x.dispose();
      labels.dispose();
    });
  });

  it('honours trainSize / testSize through the "idx" plugin', async () => {
    const rng = new Rng(5);
    const dir = writeMnistDir('plugin', true, { pixels: randomBytes(rng, 8 * 12), labels: randomBytes(rng, 8, 10) }, { pixels: randomBytes(rng, 4 * 12), labels: randomBytes(rng, 4, 10) });
    const container = rootContainer.createChildContainer();
    register(container);
    const splits = await createPlugin(container, TOKENS.Dataset, 'idx', { dir, name: 'kmnist', trainSize: 5, testSize: 3 }).load();
    expect(splits.name).toBe('kmnist');
    expect([splits.train.size, splits.test.size]).toEqual([5, 3]);
  });

  it('names the directory when it is missing', () => {
    expect(() => loadIdxSplits(join(root, 'nope'))).toThrow(DatasetError);
    expect(() => loadIdxSplits(join(root, 'nope'))).toThrow(join(root, 'nope'));
  });

  it('names the missing file and the accepted spellings', () => {
    const dir = join(root, 'half');
    mkdirSync(dir);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxImagesFile(1, 1, 1, Uint8Array.of(0)));
    expect(() => loadIdxSplits(dir)).toThrow(/train-labels-idx1-ubyte.*expected one of/);
  });
});

describe('corrupted IDX files', () => {
  const pixels = new Uint8Array(3 * 2 * 2).fill(128);
  const labels = Uint8Array.from([0, 1, 2]);
  const cases: Array<{ name: string; images: Buffer; labels: Buffer; file: 'images' | 'labels'; message: RegExp; numClasses?: number }> = [
    { name: 'bad image magic', images: idxImagesFile(3, 2, 2, pixels, 0x00000801), labels: idxLabelsFile(labels), file: 'images', message: /bad magic number 0x00000801; expected 0x00000803/ },
    { name: 'bad label magic', images: idxImagesFile(3, 2, 2, pixels), labels: idxLabelsFile(labels, 0x00000803), file: 'labels', message: /bad magic number 0x00000803; expected 0x00000801/ },
    { name: 'truncated images', images: idxImagesFile(3, 2, 2, pixels).subarray(0, 16 + 7), labels: idxLabelsFile(labels), file: 'images', message: /truncated: header declares 3 images of 2×2 \(28 bytes\) but the file has 23/ },
    { name: 'truncated header', images: idxImagesFile(3, 2, 2, pixels).subarray(0, 10), labels: idxLabelsFile(labels), file: 'images', message: /truncated: 10 bytes/ },
    { name: 'truncated labels', images: idxImagesFile(3, 2, 2, pixels), labels: idxLabelsFile(labels).subarray(0, 9), file: 'labels', message: /truncated: header declares 3 labels/ },
    { name: 'trailing bytes', images: Buffer.concat([idxImagesFile(3, 2, 2, pixels), Buffer.from([1, 2])]), labels: idxLabelsFile(labels), file: 'images', message: /2 unexpected trailing bytes/ },
    { name: 'label out of range', images: idxImagesFile(3, 2, 2, pixels), labels: idxLabelsFile(Uint8Array.from([0, 12, 1])), file: 'labels', message: /label 12 of example 1 is outside \[0, 10\)/ },
    { name: 'label out of a 3-class range', images: idxImagesFile(3, 2, 2, pixels), labels: idxLabelsFile(Uint8Array.from([0, 3, 1])), file: 'labels', message: /label 3 of example 1 is outside \[0, 3\)/, numClasses: 3 },
    { name: 'count mismatch', images: idxImagesFile(3, 2, 2, pixels), labels: idxLabelsFile(Uint8Array.from([0, 1])), file: 'labels', message: /2 labels but .* has 3 images; expected equal counts/ },
  ];

  for (const [index, c] of cases.entries()) {
    for (const gz of [false, true]) {
      it(`${c.name}${gz ? ' (gzipped)' : ''} → DatasetError naming the ${c.file} file`, () => {
        const suffix = gz ? '.gz' : '';
        const imagesFile = join(root, `bad-${index}-images-idx3-ubyte${suffix}`);
        const labelsFile = join(root, `bad-${index}-labels-idx1-ubyte${suffix}`);
        writeFileSync(imagesFile, gz ? gzipSync(c.images) : c.images);
        writeFileSync(labelsFile, gz ? gzipSync(c.labels) : c.labels);
        const error = (() => {
          try {
            loadIdxPair(imagesFile, labelsFile, { name: 'bad', numClasses: c.numClasses });
          } catch (e) {
            return e;
          }
          return undefined;
        })();
        expect(error).toBeInstanceOf(DatasetError);
        const named = c.file === 'images' ? imagesFile : labelsFile;
        expect((error as DatasetError).file).toBe(named);
        expect((error as DatasetError).message.startsWith(`${named}: `)).toBe(true);
        expect((error as DatasetError).message).toMatch(c.message);
        expect((error as DatasetError).message).not.toContain('\n');
      });
    }
  }

  it('a corrupt gzip stream → DatasetError naming the file', () => {
    const file = join(root, 'broken-images-idx3-ubyte.gz');
    writeFileSync(file, gzipSync(idxImagesFile(3, 2, 2, pixels)).subarray(0, 30));
    expect(() => loadIdxPair(file, file, { name: 'bad' })).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: gzip data is corrupt or truncated`));
  });

  it('the parsers reject swapped files', () => {
    expect(() => parseIdxImages(idxLabelsFile(labels), 'labels-as-images')).toThrow(/labels-as-images: bad magic/);
    expect(() => parseIdxLabels(idxImagesFile(3, 2, 2, pixels), 'images-as-labels')).toThrow(/images-as-labels: bad magic/);
  });
});

describe('Fashion-MNIST (Debian dataset-fashion-mnist)', () => {
  it(`loads the official 60,000 / 10,000 split from ${FASHION_MNIST_DEBIAN_DIR} (installing dataset-fashion-mnist with apt when absent)`, async () => {
    await ensureAptPackage('dataset-fashion-mnist', () => existsSync(FASHION_MNIST_DEBIAN_DIR), 'the Fashion-MNIST spec');
    const container = rootContainer.createChildContainer();
    register(container);
    const { train, test, name } = await createPlugin(container, TOKENS.Dataset, 'fashion-mnist', { testSize: 0 }).load();
    expect(name).toBe('fashion-mnist');
    expect(train.size).toBe(60_000);
    expect(test.size).toBe(10_000);
    expect(train.inputShape).toEqual([28, 28, 1]);
    // The official split is exactly balanced: 6,000 / 1,000 per class.
    const counts = (labels: Int32Array) => labels.reduce((acc, l) => (acc[l]++, acc), new Array<number>(10).fill(0));
    expect(counts(train.labels)).toEqual(new Array(10).fill(6000));
    expect(counts(test.labels)).toEqual(new Array(10).fill(1000));
    expect(test).toBeInstanceOf(ArrayDataset);
    let min = Infinity;
    let max = -Infinity;
    for (const v of (test as ArrayDataset).images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    // First training labels of the official files (Ankle boot, T-shirt/top, T-shirt/top, Dress).
    expect(Array.from(train.labels.subarray(0, 4))).toEqual([9, 0, 0, 3]);
  }, 180_000);

  it('a missing directory names it and the apt package', async () => {
    const container = rootContainer.createChildContainer();
    register(container);
    const dir = join(root, 'no-fashion');
    const source = createPlugin(container, TOKENS.Dataset, 'fashion-mnist', { dir });
    await expect(source.load()).rejects.toThrow(DatasetError);
    await expect(source.load()).rejects.toThrow(new RegExp(`^${dir}: directory not found; .*apt-get install dataset-fashion-mnist`));
  });
});
