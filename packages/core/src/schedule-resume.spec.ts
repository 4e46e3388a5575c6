import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { defineMethod } from './method.js';
import { crossEntropy } from './ops.js';
import { defineParams } from './params.js';
import { blobs, tinyMlp } from './spec-fixtures.js';
import { Trainer } from './trainer.js';
import type { TrainingMethod } from './types.js';

const CE = defineMethod({
  name: 'ce', description: 'clean cross-entropy', teacher: 'none', params: defineParams({}),
  step: ({ batch, student, minimize }) =>
    minimize(() => {
      const logits = student.logits(batch.x, { training: true });
      return { loss: crossEntropy(logits, batch.labels), logits, labels: batch.labels };
    }),
});

// Momentum with L2 weight decay, a per-batch warm-up then a step decay inside the run: the rate
// changes at almost every step, so a resume that lost the schedule's position or the momentum
// buffers would drift.
const PARAMS = {
  epochs: 3,
  optimizer: { name: 'momentum', learningRate: 0.2, momentum: 0.9, weightDecay: 5e-3 },
  schedule: { name: 'piecewise', interval: 'step', warmupEpochs: 1, milestones: [1.5], gamma: 0.1 },
};
const data = blobs(60, 3);
const dir = mkdtempSync(join(tmpdir(), 'tempered-schedule-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function weights(method: TrainingMethod): number[][] {
  return method.result().getWeights().map((w) => {
    const values = Array.from(w.dataSync());
    w.dispose();
    return values;
  });
}

async function fresh(): Promise<TrainingMethod> {
  const method = CE.create(PARAMS, rootContainer);
  const student = tinyMlp(7);
  await method.setup({ student, createModel: () => student, train: data, batchSize: 20, seed: 4, container: rootContainer });
  return method;
}

describe('a run killed mid-schedule', () => {
  it('resumes from its checkpoint bit for bit, with the learning rate in force in every event', async () => {
    const uninterrupted = await fresh();
    const rates: number[] = [];
    await new Trainer().on('batch:end', (e) => void rates.push(e.learningRate!)).run(uninterrupted, { model: 'm', train: data, batchSize: 20, seed: 4 });
    const expected = weights(uninterrupted);
    // Warm-up over the first epoch (3 batches), then 0.2 until epoch 1.5, then 0.02.
    expect(rates.slice(0, 3).map((r) => r / 0.2)).toEqual([1 / 3, 2 / 3, 1].map((f) => expect.closeTo(f, 10)));
    expect(rates.at(-1)).toBeCloseTo(0.02, 10);
    uninterrupted.result().dispose();
    uninterrupted.dispose();

    const killed = await fresh();
    const stopper = new Trainer().on('batch:end', (e, control) => {
      if (e.epoch === 1 && e.batch === 0) control.stop('simulated kill');
    });
    const outcome = await stopper.run(killed, { model: 'm', train: data, batchSize: 20, seed: 4 });
    expect(outcome.position).toMatchObject({ phase: 0, epoch: 1, batch: 1 });
    await saveCheckpoint(dir, { model: 'm', seed: 4 }, killed, outcome.position);
    killed.result().dispose();
    killed.dispose();

    const resumed = await fresh();
    const position = await loadCheckpoint(dir, resumed);
    const resumedRates: number[] = [];
    await new Trainer().on('batch:end', (e) => void resumedRates.push(e.learningRate!)).run(resumed, { model: 'm', train: data, batchSize: 20, seed: 4, resume: position });
    expect(resumedRates).toEqual(rates.slice(4));
    expect(weights(resumed)).toEqual(expected);
    resumed.result().dispose();
    resumed.dispose();
  });
});
