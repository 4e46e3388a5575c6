import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TrainingCurves } from '@tempered/reports';
import { curvesFromLog } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'tempered-curves-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training curves from metrics.jsonl', () => {
  it('are the results’ own type: per phase, one epoch each, terms beside loss, a resumed epoch replacing the interrupted one', () => {
    const lines = [
      { event: 'run:start', model: 'dd' },
      { event: 'epoch:end', model: 'dd', phase: 'teacher', epoch: 0, loss: 2, accuracy: 0.5, terms: { ce: 2 } },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 0, loss: 1.5, terms: { kl: 1.5 } },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 1, loss: 9 }, // interrupted, then redone
      { event: 'epoch:end', model: 'kd', phase: 'train', epoch: 0, loss: 1, accuracy: 0.7 },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 1, loss: 1.2, accuracy: 0.8, terms: { kl: 1.2 } },
    ].map((l) => JSON.stringify(l));
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n{"event":"epoch:en`);
    const curves = curvesFromLog(dir);
    const expected: Record<string, TrainingCurves> = {
      dd: { teacher: [{ epoch: 0, loss: 2, accuracy: 0.5, ce: 2 }], student: [{ epoch: 0, loss: 1.5, kl: 1.5 }, { epoch: 1, loss: 1.2, accuracy: 0.8, kl: 1.2 }] },
      kd: { train: [{ epoch: 0, loss: 1, accuracy: 0.7 }] },
    };
    expect(Object.fromEntries(curves)).toEqual(expected);
  });

  it('carry the learning rate of the epoch and of every step, a resumed epoch replacing its first record', () => {
    const epochEnd = (epoch: number, rates: number[]) =>
      JSON.stringify({ event: 'epoch:end', model: 'ard', phase: 'train', epoch, loss: 1 / (epoch + 1), terms: { kl: 0.5 }, learningRate: rates.at(-1), learningRates: rates });
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      [epochEnd(0, [0.1, 0.1]), epochEnd(1, [0.2, 0.3]), epochEnd(1, [0.25, 0.3]), JSON.stringify({ event: 'batch:end', model: 'ard' })].join('\n') + '\n',
    );
    const epochs = curvesFromLog(dir).get('ard')!.train!;
    expect(epochs.map((e) => [e.epoch, e.learningRate, e.learningRates])).toEqual([
      [0, 0.1, [0.1, 0.1]],
      [1, 0.3, [0.25, 0.3]],
    ]);
  });
});
