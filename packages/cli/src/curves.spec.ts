import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curvesFromLog } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'tempered-curves-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training curves from metrics.jsonl', () => {
  it('carry the learning rate of the epoch and of every step, a resumed epoch replacing its first record', () => {
    const epochEnd = (epoch: number, rates: number[]) =>
      JSON.stringify({ event: 'epoch:end', model: 'ard', phase: 'train', epoch, loss: 1 / (epoch + 1), terms: { kl: 0.5 }, learningRate: rates.at(-1), learningRates: rates });
    writeFileSync(
      join(dir, 'metrics.jsonl'),
      [epochEnd(0, [0.1, 0.1]), epochEnd(1, [0.2, 0.3]), epochEnd(1, [0.25, 0.3]), JSON.stringify({ event: 'batch:end', model: 'ard' })].join('\n') + '\n',
    );
    const curve = curvesFromLog(dir).get('ard')!;
    expect(curve.epochs.map((e) => [e.epoch, e.learningRate, e.learningRates])).toEqual([
      [0, 0.1, [0.1, 0.1]],
      [1, 0.3, [0.25, 0.3]],
    ]);
  });
});
