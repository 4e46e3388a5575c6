import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, readJsonl, runCli, smokeConfig, startCli, tempDir, writeConfig } from './helpers.js';

/**
 * Reliability: a run killed with SIGKILL at any moment and resumed ends with weights
 * bit-identical to an uninterrupted run (same seed, same backend). We train every method of
 * examples/smoke on half its digits (500: still 16 batches an epoch, so every kill point falls
 * inside an epoch or between phases as intended); evaluation is cut to one cheap attack, since it
 * is not what is being tested.
 */
const config = smokeConfig({
  dataset: { name: 'mnist', params: { trainSize: 500, testSize: 100 } },
  evaluation: { examples: 20, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
});
const MODELS = ['teacher', 'baseline', 'defensive-distillation', 'kd', 'pgd-at', 'ard', 'crdnd'];

function weights(dir: string): Record<string, Buffer> {
  return Object.fromEntries(MODELS.map((m) => [m, readFileSync(join(dir, 'models', m, 'weights.bin'))]));
}

/** Starts a run and SIGKILLs it once `metrics.jsonl` shows `when`; resolves when it is dead. */
async function killWhen(args: string[], log: string, when: (lines: Array<Record<string, unknown>>) => boolean): Promise<boolean> {
  const child = startCli(args);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let killed = false;
  const timer = setInterval(() => {
    if (!killed && when(readJsonl(log))) {
      killed = true;
      child.kill('SIGKILL');
    }
  }, 25);
  await exited;
  clearInterval(timer);
  return killed;
}

describe('SIGKILL and --resume', () => {
  const dir = tempDir('resume');
  const configPath = writeConfig(dir, config);
  const reference = join(dir, 'reference');
  const interrupted = join(dir, 'interrupted');

  beforeAll(() => {
    assertBuilt();
    const r = runCli(['run', configPath, '--out', reference]);
    expect(r.status, r.stderr).toBe(0);
  }, 600_000);

  it('ends bit-identical to an uninterrupted run after kills in several phases', async () => {
    const log = join(interrupted, 'metrics.jsonl');
    const ends = (model: string, phase: string, n: number) => (lines: Array<Record<string, unknown>>) =>
      lines.filter((l) => l.event === 'epoch:end' && l.model === model && l.phase === phase).length >= n;
    const batchesInto = (model: string) => (lines: Array<Record<string, unknown>>) => lines.some((l) => l.event === 'run:start' && l.model === model);
    // Kill points: mid teacher training, between defensive distillation's two phases, inside ARD
    // (after it started, somewhere mid-epoch), inside CRDND after its first epoch.
    const killPoints = [ends('teacher', 'train', 1), ends('defensive-distillation', 'teacher', 2), batchesInto('ard'), ends('crdnd', 'train', 1)];
    let kills = 0;
    for (const [i, point] of killPoints.entries()) {
      const args = ['run', configPath, '--out', interrupted, ...(i === 0 ? [] : ['--resume'])];
      if (await killWhen(args, log, point)) kills++;
    }
    expect(kills).toBe(killPoints.length);
    expect(existsSync(join(interrupted, 'results.json'))).toBe(false);
    const final = runCli(['run', configPath, '--out', interrupted, '--resume']);
    expect(final.status, final.stderr).toBe(0);

    const a = weights(reference);
    const b = weights(interrupted);
    for (const model of MODELS) expect(b[model]!.equals(a[model]!), `${model} weights differ after resume`).toBe(true);
    const ra = JSON.parse(readFileSync(join(reference, 'results.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(interrupted, 'results.json'), 'utf8'));
    for (const model of Object.keys(ra.models)) {
      expect(rb.models[model].cleanAccuracy).toBe(ra.models[model].cleanAccuracy);
      expect(rb.models[model].attacks).toEqual(ra.models[model].attacks);
    }
    // No temporary files survive the kills.
    const leftovers = readdirSync(interrupted, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  }, 600_000);

  it('refuses to overwrite a finished run without --resume or --force, leaving it intact', () => {
    const before = readFileSync(join(reference, 'results.json'));
    writeFileSync(join(reference, 'notes.txt'), 'mine');
    const r = runCli(['run', configPath, '--out', reference]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^error: .*holds a finished run \(results\.json\); pass --resume to continue it or --force to overwrite it$/);
    expect(readFileSync(join(reference, 'results.json')).equals(before)).toBe(true);
    expect(readFileSync(join(reference, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
