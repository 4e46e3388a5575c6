import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from './trainer.js';
import { EarlyStopping } from './listeners/early-stopping.js';
import { JsonlLogger } from './listeners/jsonl.js';
import { ProgressListener } from './listeners/progress.js';
import { NumericError, TrainingStepError } from './errors.js';
import { expectNoLeaks } from './testing.js';
import { PlainMethod, blobs, tinyMlp, weightsOf } from './spec-fixtures.js';
import type { TrainerEventName } from './events.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = blobs(48, 1);

function recordAll(trainer: Trainer, log: string[]): void {
  const names: TrainerEventName[] = ['run:start', 'phase:start', 'epoch:start', 'batch:start', 'batch:end', 'epoch:end', 'phase:end', 'run:end'];
  for (const name of names) trainer.on(name, () => void log.push(name));
}

describe('Trainer', () => {
  it('emits run, phase, epoch and batch events in order', async () => {
    const method = new PlainMethod(tinyMlp(1), 2);
    method.setup();
    const trainer = new Trainer();
    const log: string[] = [];
    recordAll(trainer, log);
    await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    const epoch = ['epoch:start', ...Array(3).fill(['batch:start', 'batch:end']).flat(), 'epoch:end'];
    expect(log).toEqual(['run:start', 'phase:start', ...epoch, ...epoch, 'phase:end', 'run:end']);
    method.dispose();
    method.result().dispose();
  });

  it('awaits async listeners in registration order before going on', async () => {
    const method = new PlainMethod(tinyMlp(2), 1);
    method.setup();
    const trainer = new Trainer();
    const log: string[] = [];
    trainer.on('epoch:end', async () => {
      await new Promise((r) => setTimeout(r, 20));
      log.push('slow listener done');
    });
    trainer.on('epoch:end', () => void log.push('second listener'));
    trainer.on('phase:end', () => void log.push('phase:end'));
    await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    expect(log).toEqual(['slow listener done', 'second listener', 'phase:end']);
    method.dispose();
    method.result().dispose();
  });

  it('lets the event loop run between batches, so a signal handler can stop training mid-epoch', async () => {
    const method = new PlainMethod(tinyMlp(4), 3);
    method.setup();
    const trainer = new Trainer();
    // A SIGINT/SIGTERM handler is a macrotask like this timer: it runs only if the loop yields.
    trainer.on('run:start', () => void setImmediate(() => trainer.requestStop('SIGTERM')));
    const outcome = await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    expect(outcome).toMatchObject({ stopped: true, reason: 'SIGTERM', position: { phase: 0, epoch: 0, batch: 1 } });
    method.dispose();
    method.result().dispose();
  });

  it('stops after the current batch when a listener asks', async () => {
    const method = new PlainMethod(tinyMlp(3), 5);
    method.setup();
    const trainer = new Trainer();
    let batches = 0;
    trainer.on('batch:end', (e, control) => {
      batches++;
      if (e.epoch === 1 && e.batch === 0) control.stop('enough');
    });
    const outcome = await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    expect(outcome).toEqual({ stopped: true, reason: 'enough', position: { phase: 0, epoch: 1, batch: 1, step: 4 } });
    expect(batches).toBe(4);
    method.dispose();
    method.result().dispose();
  });

  it('emits an error event naming the position when a step throws, and rethrows', async () => {
    const method = new PlainMethod(tinyMlp(4), 2, 'adam', () => {
      throw new Error('step exploded');
    });
    method.setup();
    const trainer = new Trainer();
    const errors: unknown[] = [];
    trainer.on('error', (e) => void errors.push(e));
    const thrown = await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 }).catch((e: unknown) => e);
    // The plugin's own error names no model, phase, epoch or batch; the trainer's wrapper does, and keeps it as the cause.
    expect(thrown).toBeInstanceOf(TrainingStepError);
    expect((thrown as Error).message).toMatch(/^model "m", phase "\w+", epoch 0, batch 0: step exploded$/);
    expect(((thrown as Error).cause as Error).message).toBe('step exploded');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ model: 'm', position: { phase: 0, epoch: 0, batch: 0 } });
    method.dispose();
    method.result().dispose();
  });

  it('stops on a non-finite loss with an error naming model, epoch and batch', async () => {
    const method = new PlainMethod(tinyMlp(5), 2);
    method.setup();
    const phase = method.phases()[0]!;
    const original = phase.trainStep.bind(phase);
    let calls = 0;
    (phase as { trainStep: typeof phase.trainStep }).trainStep = async (batch, ctx) => {
      const result = await original(batch, ctx);
      return ++calls === 2 ? { ...result, loss: NaN } : result;
    };
    const trainer = new Trainer();
    await expect(trainer.run(method, { model: 'net', train: data, batchSize: 16, seed: 1 })).rejects.toThrow(NumericError);
    await expect(
      new Trainer().run(method, { model: 'net', train: data, batchSize: 16, seed: 1 }),
    ).resolves.toMatchObject({ stopped: false });
    method.dispose();
    method.result().dispose();
    calls = 0;
    const fresh = new PlainMethod(tinyMlp(5), 2);
    fresh.setup();
    const p = fresh.phases()[0]!;
    const o = p.trainStep.bind(p);
    (p as { trainStep: typeof p.trainStep }).trainStep = async (b, c) => ({ ...(await o(b, c)), loss: c.batch === 1 ? Infinity : 1 });
    await expect(new Trainer().run(fresh, { model: 'net', train: data, batchSize: 16, seed: 1 })).rejects.toThrow(
      'loss (Infinity) is not finite in model "net" at epoch 0, batch 1',
    );
    fresh.dispose();
    fresh.result().dispose();
  });

  it('trains (loss falls), is deterministic per seed, and leaks nothing across epochs', async () => {
    const run = async (seed: number) => {
      const student = tinyMlp(6);
      const method = new PlainMethod(student, 4);
      method.setup();
      const trainer = new Trainer();
      const losses: number[] = [];
      const tensors: number[] = [];
      trainer.on('epoch:end', (e) => {
        losses.push(e.loss);
        tensors.push(e.numTensors);
      });
      await trainer.run(method, { model: 'm', train: data, batchSize: 8, seed });
      const weights = await weightsOf(student);
      method.dispose();
      student.dispose();
      return { losses, tensors, weights };
    };
    const a = await expectNoLeaks(() => run(11), 'a whole training run');
    const b = await run(11);
    const c = await run(12);
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]! * 0.8);
    expect(new Set(a.tensors.slice(1)).size).toBe(1);
    expect(b.weights).toEqual(a.weights);
    expect(c.weights).not.toEqual(a.weights);
  });

  it('drives the stock listeners: JSONL log lines, early stopping, plain progress lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-trainer-'));
    const method = new PlainMethod(tinyMlp(7), 30);
    method.setup();
    const trainer = new Trainer();
    let text = '';
    const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
    trainer.use(new JsonlLogger(join(dir, 'metrics.jsonl')), new EarlyStopping({ patience: 1, minDelta: 10 }), new ProgressListener({ stream, tty: false }));
    const outcome = await trainer.run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    expect(outcome.stopped).toBe(true);
    expect(outcome.reason).toMatch(/early stopping/);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const epochEnds = lines.filter((l) => l.event === 'epoch:end');
    // Epoch 0 sets the best loss; epoch 1 cannot beat it by minDelta = 10, so patience 1 stops.
    expect(epochEnds).toHaveLength(2);
    expect(epochEnds[0]).toMatchObject({ model: 'm', epoch: 0, method: 'plain', phase: 'student' });
    for (const key of ['loss', 'accuracy', 'numTensors', 'terms']) expect(epochEnds[0]).toHaveProperty(key);
    expect(lines.at(-1)).toMatchObject({ event: 'run:end', stopped: true });
    expect(text).toMatch(/m\/student epoch 1\/30 loss \d+\.\d+ acc/);
    expect(text).not.toContain('\r');
    method.dispose();
    method.result().dispose();
  });

  it('labels each epoch\'s accuracy with what the steps declared it was measured on', async () => {
    const run = async (accuracyOn?: (step: number) => 'clean' | 'adversarial' | undefined) => {
      const dir = mkdtempSync(join(tmpdir(), 'tempered-trainer-'));
      const method = new PlainMethod(tinyMlp(7), 1, 'adam', undefined, accuracyOn);
      method.setup();
      let text = '';
      const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
      await new Trainer().use(new JsonlLogger(join(dir, 'metrics.jsonl')), new ProgressListener({ stream, tty: false })).run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
      method.dispose();
      method.result().dispose();
      const epochEnd = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.event === 'epoch:end');
      return { epochEnd, text };
    };
    const adversarial = await run(() => 'adversarial');
    expect(adversarial.epochEnd.accuracyOn).toBe('adversarial');
    expect(adversarial.text).toMatch(/m\/student epoch 1\/1 loss \d+\.\d+ acc on x′ \d+\.\d%/);
    const clean = await run(() => 'clean');
    expect(clean.epochEnd.accuracyOn).toBe('clean');
    expect(clean.text).toMatch(/ acc on clean x \d+\.\d%/);
    // Steps that disagree, or say nothing, leave the accuracy unlabelled rather than guessed.
    const mixed = await run((step) => (step % 2 === 0 ? 'clean' : 'adversarial'));
    expect(mixed.epochEnd).not.toHaveProperty('accuracyOn');
    expect(mixed.text).toMatch(/ acc \d+\.\d%/);
    expect((await run()).epochEnd).not.toHaveProperty('accuracyOn');
  });

  it('redraws a progress bar with ETA in place on a TTY', async () => {
    const method = new PlainMethod(tinyMlp(8), 1);
    method.setup();
    let text = '';
    const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
    await new Trainer().use(new ProgressListener({ stream, tty: true })).run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    const frames = text.split('\r').filter((f) => f.startsWith('['));
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^\[#{8}\.{16}\]  33% 1\/3 ETA \d+:\d\d m\/student epoch 1\/1 loss \d/);
    expect(frames[2]).toMatch(/^\[#{24}\] 100% 3\/3 ETA 0:00 /);
    expect(text).toMatch(/\r\x1b\[Km\/student epoch 1\/1 loss \d+\.\d+ acc \d+\.\d%/);
    method.dispose();
    method.result().dispose();
  });

  it('prints nothing when quiet', async () => {
    const method = new PlainMethod(tinyMlp(9), 1);
    method.setup();
    let text = '';
    const stream = new Writable({ write: (chunk, _e, cb) => ((text += chunk.toString()), cb()) }) as unknown as NodeJS.WriteStream;
    await new Trainer().use(new ProgressListener({ stream, quiet: true })).run(method, { model: 'm', train: data, batchSize: 16, seed: 1 });
    expect(text).toBe('');
    method.dispose();
    method.result().dispose();
  });
});
