import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from './trainer.js';
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
});
