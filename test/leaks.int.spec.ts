import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { assertBuilt, readJsonl, runCli, smokeConfig, tempDir, writeConfig } from './helpers.js';

/**
 * No leaks, bounded memory: over at least 200 training steps of every method on the smoke data,
 * tf.memory().numTensors at each epoch end is the same for every epoch of a phase.
 */
const EPOCHS = 7; // 1,000 images / batch 32 = 32 steps per epoch → 224 steps per phase
const base = smokeConfig();
// The smoke students plus TRADES (not in the smoke run), each with the default ε warm-up.
const students = [
  ...(base.students as Array<{ name: string; method: string; params: Record<string, unknown> }>),
  { name: 'trades', method: 'trades', params: { epsilon: 0.1, stepSize: 0.04, steps: 3 } },
].map((s) => ({
  ...s,
  params: { ...s.params, epochs: EPOCHS, ...(s.method === 'defensive-distillation' ? { teacherEpochs: EPOCHS } : {}) },
}));
const config = {
  ...base,
  students,
  evaluation: { examples: 10, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
};

describe('tensor count over long training', () => {
  const dir = tempDir('leaks');
  const out = join(dir, 'run');
  let status: number | null = null;
  let stderr = '';

  beforeAll(() => {
    assertBuilt();
    const r = runCli(['run', writeConfig(dir, config), '--out', out]);
    status = r.status;
    stderr = r.stderr;
  }, 900_000);

  it('keeps numTensors constant across epochs for every method and phase', () => {
    expect(status, stderr.split('\n').slice(-5).join('\n')).toBe(0);
    const epochEnds = readJsonl(join(out, 'metrics.jsonl')).filter((l) => l.event === 'epoch:end');
    const byPhase = new Map<string, number[]>();
    for (const e of epochEnds) {
      const key = `${e.model}/${e.phase}`;
      byPhase.set(key, [...(byPhase.get(key) ?? []), e.numTensors as number]);
    }
    const methods = new Set(epochEnds.map((e) => e.model));
    expect(methods).toEqual(new Set(['teacher', ...students.map((s) => s.name)]));
    for (const s of students) {
      // One-phase methods train in phase 'train'; defensive distillation's student phase is 'student'.
      const steps = epochEnds.filter((e) => e.model === s.name && (e.phase === 'train' || e.phase === 'student')).length * Math.ceil(1000 / 32);
      expect(steps, s.name).toBeGreaterThanOrEqual(200);
    }
    for (const [key, counts] of byPhase) {
      expect(counts.length, key).toBeGreaterThanOrEqual(3);
      expect(new Set(counts), `${key}: numTensors per epoch ${counts.join(', ')}`).toEqual(new Set([counts[0]]));
    }
  });
});
