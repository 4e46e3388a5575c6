import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from './trainer.js';
import { sha256Hex } from './fs.js';
import type { EpochEndEvent } from './events.js';
import { CheckpointListener } from './listeners/checkpoint.js';
import { hasCheckpoint, loadCheckpoint, readCheckpointManifest } from './checkpoint.js';
import { expectNoLeaks } from './testing.js';
import { PlainMethod, blobs, tinyMlp, weightsOf } from './spec-fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = blobs(40, 2);
const EPOCHS = 3;

async function uninterrupted(optimizer: 'adam' | 'momentum'): Promise<Float32Array[]> {
  const student = tinyMlp(9);
  const method = new PlainMethod(student, EPOCHS, optimizer);
  method.setup();
  await new Trainer().run(method, { model: 'm', train: data, batchSize: 8, seed: 5 });
  const weights = await weightsOf(student);
  method.dispose();
  student.dispose();
  return weights;
}

/** Trains until `stopAt` (epoch, batch), checkpointing; then resumes in fresh objects, as a new process would. */
async function interrupted(optimizer: 'adam' | 'momentum', stopAt: { epoch: number; batch: number }): Promise<Float32Array[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tempered-ckpt-'));
  {
    const student = tinyMlp(9);
    const method = new PlainMethod(student, EPOCHS, optimizer);
    method.setup();
    const trainer = new Trainer().use(new CheckpointListener({ dir, seed: 5, handleSignals: false }));
    trainer.on('batch:end', (e, control) => {
      if (e.epoch === stopAt.epoch && e.batch === stopAt.batch) control.stop('simulated kill');
    });
    const outcome = await trainer.run(method, { model: 'm', train: data, batchSize: 8, seed: 5 });
    expect(outcome.stopped).toBe(true);
    method.dispose();
    student.dispose();
  }
  expect(hasCheckpoint(dir)).toBe(true);
  const student = tinyMlp(9);
  const method = new PlainMethod(student, EPOCHS, optimizer);
  method.setup();
  const position = await loadCheckpoint(dir, method);
  expect(position).toEqual(readCheckpointManifest(dir)!.position);
  await new Trainer().use(new CheckpointListener({ dir, seed: 5, handleSignals: false })).run(method, {
    model: 'm',
    train: data,
    batchSize: 8,
    seed: 5,
    resume: position,
  });
  const weights = await weightsOf(student);
  method.dispose();
  student.dispose();
  expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toHaveLength(1);
  return weights;
}

describe('checkpoints and resume', () => {
  for (const optimizer of ['adam', 'momentum'] as const) {
    it(`resumes ${optimizer} training to bit-identical weights, mid-epoch and at an epoch end`, async () => {
      const reference = await uninterrupted(optimizer);
      expect(await interrupted(optimizer, { epoch: 1, batch: 2 })).toEqual(reference);
      expect(await interrupted(optimizer, { epoch: 0, batch: 4 })).toEqual(reference);
    });
  }

  it('restores without leaking tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-ckpt-'));
    const student = tinyMlp(10);
    const method = new PlainMethod(student, 1);
    method.setup();
    await new Trainer().use(new CheckpointListener({ dir, seed: 1, handleSignals: false })).run(method, { model: 'm', train: data, batchSize: 8, seed: 1 });
    await expectNoLeaks(() => loadCheckpoint(dir, method), 'loadCheckpoint');
    method.dispose();
    student.dispose();
  });

  it('refuses a checkpoint of another method', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-ckpt-'));
    const student = tinyMlp(11);
    const method = new PlainMethod(student, 1);
    method.setup();
    await new Trainer().use(new CheckpointListener({ dir, seed: 1, handleSignals: false })).run(method, { model: 'm', train: data, batchSize: 8, seed: 1 });
    const other = Object.assign(Object.create(method), { name: 'ard' });
    await expect(loadCheckpoint(dir, other)).rejects.toThrow(/checkpoint is for method "plain", not "ard"/);
    method.dispose();
    student.dispose();
  });

  it('reports a resumed epoch as an uninterrupted run does: its running sums are in the checkpoint', async () => {
    const epochs = (trainer: Trainer, into: Array<Pick<EpochEndEvent, 'epoch' | 'loss' | 'accuracy' | 'terms'>>) =>
      trainer.on('epoch:end', (e) => void into.push({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy, terms: e.terms }));
    const reference: Array<Pick<EpochEndEvent, 'epoch' | 'loss' | 'accuracy' | 'terms'>> = [];
    {
      const student = tinyMlp(9);
      const method = new PlainMethod(student, 2);
      method.setup();
      const trainer = new Trainer();
      epochs(trainer, reference);
      await trainer.run(method, { model: 'm', train: data, batchSize: 8, seed: 5 });
      method.dispose();
      student.dispose();
    }
    expect(reference[1]!.accuracy).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'tempered-ckpt-'));
    {
      const student = tinyMlp(9);
      const method = new PlainMethod(student, 2);
      method.setup();
      const trainer = new Trainer().use(new CheckpointListener({ dir, seed: 5, handleSignals: false }));
      trainer.on('batch:end', (e, control) => {
        if (e.epoch === 1 && e.batch === 2) control.stop('simulated signal');
      });
      await trainer.run(method, { model: 'm', train: data, batchSize: 8, seed: 5 });
      method.dispose();
      student.dispose();
    }
    const manifest = readCheckpointManifest(dir)!;
    expect(manifest.epochTotals).toMatchObject({ batches: 3, examples: 24 });
    const student = tinyMlp(9);
    const method = new PlainMethod(student, 2);
    method.setup();
    const position = await loadCheckpoint(dir, method);
    const resumed: typeof reference = [];
    const trainer = new Trainer();
    epochs(trainer, resumed);
    await trainer.run(method, { model: 'm', train: data, batchSize: 8, seed: 5, resume: position, resumeTotals: manifest.epochTotals });
    expect(resumed).toEqual([reference[1]]);
    method.dispose();
    student.dispose();
    // What the probe saw: without the totals the epoch reports only the batches after the resume.
    const again = tinyMlp(9);
    const bare = new PlainMethod(again, 2);
    bare.setup();
    const partial: typeof reference = [];
    const plain = new Trainer();
    epochs(plain, partial);
    await plain.run(bare, { model: 'm', train: data, batchSize: 8, seed: 5, resume: await loadCheckpoint(dir, bare) });
    expect(partial[0]!.loss).not.toBe(reference[1]!.loss);
    bare.dispose();
    again.dispose();
  });

  it('refuses damaged checkpoints naming the file: zero-filled data, a manifest missing a field, NaN weights', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-ckpt-'));
    const student = tinyMlp(12);
    const method = new PlainMethod(student, 1);
    method.setup();
    await new Trainer().use(new CheckpointListener({ dir, seed: 1, handleSignals: false })).run(method, { model: 'm', train: data, batchSize: 8, seed: 1 });
    const manifestPath = join(dir, 'latest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown> & { data: string; tensors: Array<{ offset: number; length: number }> };
    const dataPath = join(dir, manifest.data);
    const original = readFileSync(dataPath);
    // The probe's case: a zero-filled file of the right size resumed from zero weights.
    writeFileSync(dataPath, Buffer.alloc(statSync(dataPath).size));
    await expect(loadCheckpoint(dir, method)).rejects.toThrow(new RegExp(`^${dataPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: checksum mismatch`));
    // NaN weights with a matching checksum (written so on purpose) are refused too.
    const nan = Buffer.from(original);
    nan.writeFloatLE(Number.NaN, manifest.tensors[0]!.offset);
    writeFileSync(dataPath, nan);
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, sha256: sha256Hex(nan) }));
    await expect(loadCheckpoint(dir, method)).rejects.toThrow(/ckpt-\d+\.bin: weight model\/0\/0 holds NaN or Inf/);
    // The probe's manifest missing fields gave "The "path" argument must be of type string".
    writeFileSync(dataPath, original);
    const { data: _data, ...noData } = manifest;
    writeFileSync(manifestPath, JSON.stringify(noData));
    await expect(loadCheckpoint(dir, method)).rejects.toThrow(/latest\.json: data: expected the data file name ckpt-<n>\.bin; the checkpoint is damaged/);
    writeFileSync(manifestPath, JSON.stringify(manifest).slice(0, 40));
    await expect(loadCheckpoint(dir, method)).rejects.toThrow(/latest\.json: checkpoint manifest is not valid JSON/);
    method.dispose();
    student.dispose();
  });
});
