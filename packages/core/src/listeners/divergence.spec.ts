import * as tf from '@tensorflow/tfjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../trainer.js';
import { CheckpointListener } from './checkpoint.js';
import { DEFAULT_LOSS_GROWTH, DivergenceError, DivergenceGuard } from './divergence.js';
import { hasCheckpoint, readCheckpointManifest } from '../checkpoint.js';
import { createOptimizer } from '../optimizers.js';
import { blobs, tinyMlp } from '../spec-fixtures.js';
import type { TrainingMethod, TrainingPhase } from '../types.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = blobs(32, 2); // 4 batches of 8

/** A method whose steps report the given losses in order (weights untouched): the guard sees exactly these. */
function scripted(losses: number[], epochs: number): { method: TrainingMethod; dispose: () => void } {
  const student = tinyMlp(3);
  const optimizer = createOptimizer({ name: 'sgd', learningRate: 0.1 });
  let i = 0;
  const phase: TrainingPhase = { name: 'student', model: student, epochs, optimizer, trainStep: async () => ({ loss: losses[i++] ?? 1 }) };
  const method: TrainingMethod = {
    name: 'scripted', teacher: 'none', setup: () => {}, phases: () => [phase], result: () => student, params: () => ({}), dispose: () => optimizer.dispose(),
  };
  return { method, dispose: () => student.dispose() };
}

describe('DivergenceGuard', () => {
  it('stops a finite blow-up over the stated factor of the first epoch\'s mean loss, before it is checkpointed', async () => {
    // Epoch 0 means 2.0; epoch 1 batch 2 reaches 1.3e14 (the probe's learning rate 1e6).
    const { method, dispose } = scripted([2, 2.5, 1.5, 2, 1.8, 1.9, 1.3e14, 1.3e14], 2);
    const dir = mkdtempSync(join(tmpdir(), 'tempered-diverge-'));
    const trainer = new Trainer().use(new DivergenceGuard(), new CheckpointListener({ dir, seed: 1, handleSignals: false }));
    const run = trainer.run(method, { model: 'm', train: data, batchSize: 8, seed: 1 });
    await expect(run).rejects.toThrow(DivergenceError);
    await expect(run).rejects.toThrow(/^model "m", phase "student": loss 1\.30e\+14 at epoch 1, batch 2 is over 1000 × the first epoch's mean loss 2\.00: training diverged$/);
    // The checkpoint on disk is the epoch-0 one: the diverged weights were never saved.
    expect(readCheckpointManifest(dir)!.position).toMatchObject({ epoch: 1, batch: 0 });
    dispose();
  });

  it('compares within the first epoch against its mean so far, and honours a configured factor', async () => {
    const early = scripted([2, 2, 30], 1);
    const dir = mkdtempSync(join(tmpdir(), 'tempered-diverge-'));
    await expect(new Trainer().use(new DivergenceGuard({ lossGrowth: 10 }), new CheckpointListener({ dir, seed: 1, handleSignals: false })).run(early.method, { model: 'm', train: data, batchSize: 8, seed: 1 })).rejects.toThrow(
      /loss 30\.0 at epoch 0, batch 2 is over 10 × the first epoch's mean loss 2\.00/,
    );
    expect(hasCheckpoint(dir)).toBe(false);
    early.dispose();
    // Growth under the factor (and losses that fall) train on.
    const calm = scripted([2, 2, 19, 0.5, 0.1, 0.2, 0.1, 0.1], 2);
    await expect(new Trainer().use(new DivergenceGuard({ lossGrowth: 10 })).run(calm.method, { model: 'm', train: data, batchSize: 8, seed: 1 })).resolves.toMatchObject({ stopped: false });
    calm.dispose();
    expect(DEFAULT_LOSS_GROWTH).toBe(1000);
  });
});
