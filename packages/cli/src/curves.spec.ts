import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrainingCurves } from '@tempered/reports';
import { curvesFromLog } from './run.js';

describe('training curves from metrics.jsonl', () => {
  it('are the results’ own type: per phase, one epoch each, terms beside loss, a resumed epoch replacing the interrupted one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-curves-'));
    const lines = [
      { event: 'run:start', model: 'dd' },
      { event: 'epoch:end', model: 'dd', phase: 'teacher', epoch: 0, loss: 2, accuracy: 0.5, terms: { ce: 2 } },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 0, loss: 1.5, terms: { kl: 1.5 } },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 1, loss: 9 }, // interrupted, then redone
      { event: 'epoch:end', model: 'kd', phase: 'student', epoch: 0, loss: 1, accuracy: 0.7 },
      { event: 'epoch:end', model: 'dd', phase: 'student', epoch: 1, loss: 1.2, accuracy: 0.8, terms: { kl: 1.2 } },
    ].map((l) => JSON.stringify(l));
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n{"event":"epoch:en`);
    const curves = curvesFromLog(dir);
    const expected: Record<string, TrainingCurves> = {
      dd: { teacher: [{ epoch: 0, loss: 2, accuracy: 0.5, ce: 2 }], student: [{ epoch: 0, loss: 1.5, kl: 1.5 }, { epoch: 1, loss: 1.2, accuracy: 0.8, kl: 1.2 }] },
      kd: { student: [{ epoch: 0, loss: 1, accuracy: 0.7 }] },
    };
    expect(Object.fromEntries(curves)).toEqual(expected);
  });
});
