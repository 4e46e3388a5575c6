import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { container as rootContainer } from 'tsyringe';
import { DatasetError, Rng, TOKENS, createPlugin } from '@tempered/core';
import { expectNoLeaks } from '../../core/src/testing.js';
import { CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, CIFAR_RECORD_BYTES, loadCifar10, loadCifarFiles, parseCifarBatch } from './cifar10.js';
import { register } from './register.js';

/** Random CIFAR records: label byte then R, G, B planes of 1024 bytes. */
function records(rng: Rng, count: number, labelBelow = 10): Uint8Array {
  const out = new Uint8Array(count * CIFAR_RECORD_BYTES);
  for (let r = 0; r < count; r++) {
    out[r * CIFAR_RECORD_BYTES] = rng.int(labelBelow);
    for (let p = 1; p < CIFAR_RECORD_BYTES; p++) out[r * CIFAR_RECORD_BYTES + p] = rng.int(256);
  }
  return out;
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tempered-cifar-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeCifarDir(name: string, perBatch: number[], testCount: number, seed = 1): { dir: string; batches: Uint8Array[]; test: Uint8Array } {
  const rng = new Rng(seed);
  const dir = join(root, name);
  mkdirSync(dir);
  const batches = CIFAR10_TRAIN_FILES.map((file, i) => {
    const data = records(rng, perBatch[i]!);
    writeFileSync(join(dir, file), data);
    return data;
  });
  const test = records(rng, testCount);
  writeFileSync(join(dir, CIFAR10_TEST_FILE), test);
  return { dir, batches, test };
}

describe('CIFAR-10 binary loader', () => {
  it('converts CHW planes to HWC in [0, 1] (property over random records)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (count, seed) => {
        const bytes = records(new Rng(seed), count);
        const { images, labels } = parseCifarBatch(bytes, 'prop.bin');
        expect(labels.length).toBe(count);
        for (let r = 0; r < count; r++) {
          const record = r * CIFAR_RECORD_BYTES;
          expect(labels[r]).toBe(bytes[record]);
          for (const [y, x, c] of [[0, 0, 0], [31, 31, 2], [5, 17, 1], [16, 3, 0]] as const) {
            const chw = bytes[record + 1 + c * 1024 + y * 32 + x]!;
            expect(images[r * 3072 + (y * 32 + x) * 3 + c]).toBe(Math.fround(chw / 255));
          }
        }
        for (const v of images) expect(v >= 0 && v <= 1).toBe(true);
      }),
      { numRuns: 20, seed: 3 },
    );
  });

  it('concatenates data_batch_1..5 in order and reads test_batch', async () => {
    const { dir, batches, test } = writeCifarDir('full', [2, 1, 3, 1, 2], 4);
    const splits = loadCifar10(dir);
    expect(splits.train.size).toBe(9);
    expect(splits.test.size).toBe(4);
    expect(splits.train.inputShape).toEqual([32, 32, 3]);
    const expectedLabels = batches.flatMap((b) => Array.from({ length: b.length / CIFAR_RECORD_BYTES }, (_, r) => b[r * CIFAR_RECORD_BYTES]!));
    expect(Array.from(splits.train.labels)).toEqual(expectedLabels);
    expect(splits.test.labels[3]).toBe(test[3 * CIFAR_RECORD_BYTES]);
    await expectNoLeaks(() => {
      const { x, labels } = splits.train.batch([8, 0]);
      expect(x.shape).toEqual([2, 32, 32, 3]);
      expect(labels.shape).toEqual([2]);
      x.dispose();
      labels.dispose();
    });
  });

  it('reads only the batches trainSize needs, through the "cifar10" plugin', async () => {
    const { dir } = writeCifarDir('partial', [2, 2, 2, 2, 2], 3);
    // A broken later batch is never opened when the first two suffice.
    writeFileSync(join(dir, CIFAR10_TRAIN_FILES[4]), new Uint8Array(10));
    const container = rootContainer.createChildContainer();
    register(container);
    const splits = await createPlugin(container, TOKENS.Dataset, 'cifar10', { dir, trainSize: 3, testSize: 2 }).load();
    expect([splits.train.size, splits.test.size]).toEqual([3, 2]);
    await expect(createPlugin(container, TOKENS.Dataset, 'cifar10', { dir }).load()).rejects.toThrow(join(dir, CIFAR10_TRAIN_FILES[4]));
  });

  const cases: Array<{ name: string; bytes: () => Uint8Array; message: RegExp }> = [
    { name: 'truncated record', bytes: () => records(new Rng(1), 2).subarray(0, CIFAR_RECORD_BYTES + 100), message: /truncated: 3173 bytes is not a multiple of the 3073-byte record \(1 whole records \+ 100 bytes\)/ },
    { name: 'empty file', bytes: () => new Uint8Array(0), message: /empty file/ },
    {
      name: 'label out of range',
      bytes: () => {
        const b = records(new Rng(2), 3);
        b[2 * CIFAR_RECORD_BYTES] = 10;
        return b;
      },
      message: /label 10 of record 2 is outside \[0, 10\)/,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → DatasetError naming the file`, () => {
      const file = join(root, `bad-${c.name.replace(/ /g, '-')}.bin`);
      writeFileSync(file, c.bytes());
      let error: unknown;
      try {
        loadCifarFiles([file], 'bad');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DatasetError);
      expect((error as DatasetError).file).toBe(file);
      expect((error as DatasetError).message).toMatch(c.message);
    });
  }

  it('a missing batch file is named', () => {
    const { dir } = writeCifarDir('missing', [1, 1, 1, 1, 1], 1);
    rmSync(join(dir, CIFAR10_TEST_FILE));
    expect(() => loadCifar10(dir)).toThrow(`${join(dir, CIFAR10_TEST_FILE)}: file not found`);
  });

  it('a missing directory is named', () => {
    expect(() => loadCifar10(join(root, 'absent'))).toThrow(new RegExp(`^${join(root, 'absent')}: directory not found`));
  });
});
