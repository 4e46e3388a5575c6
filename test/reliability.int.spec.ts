import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, smokeConfig, tempDir, writeConfig } from './helpers.js';

/**
 * Reliability cases of issue 21 that need a real (tiny) run: a diverging teacher is stopped
 * with the truth about checkpoints, `--resume` after it is refused with what to change, and
 * `--force` removes what Tempered wrote and nothing else. 200 digits, one epoch: seconds.
 */
const dir = tempDir('reliability');
const diverging = smokeConfig({
  dataset: { name: 'mnist', params: { trainSize: 200, testSize: 50 } },
  // The probe's finite blow-up: Adam at learning rate 1e6.
  teacher: { epochs: 1, params: { learningRate: 1e6 } },
  students: [{ name: 'baseline', method: 'standard', params: { epochs: 1 } }],
  evaluation: { examples: 50, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
});

beforeAll(() => assertBuilt());

describe('divergence and --force on a real run', () => {
  const configPath = writeConfig(dir, diverging);
  const out = join(dir, 'run');

  it('stops a diverging run saying truthfully that no checkpoint was kept, and refuses --resume with what to change', () => {
    const r = runCli(['run', configPath, '--out', out, '--jobs', '1', '--quiet']);
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: .*model "teacher".*(is over 1000 × the first epoch's mean loss|is not finite).*training diverged; no checkpoint was kept \(it diverged before its first epoch ended\); lower the learning rate of the teacher \(method "standard", teacher\.params\.learningRate\)/);
    expect(lines[0]).not.toMatch(/last good checkpoint/);
    expect(existsSync(join(out, 'checkpoints', 'teacher', 'latest.json'))).toBe(false);
    expect(existsSync(join(out, 'models', 'teacher'))).toBe(false);

    const resumed = runCli(['run', configPath, '--out', out, '--resume', '--jobs', '1', '--quiet']);
    expect(resumed.status).not.toBe(0);
    expect(resumed.stderr.trim().split('\n')).toHaveLength(1);
    expect(resumed.stderr).toMatch(/^error: .*run: job seed-1\/teacher: diverged in an earlier attempt, so it is not resumed: .*lower the learning rate of the teacher .*then rerun with --force\n$/);
  }, 120_000);

  it('--force removes only what Tempered wrote: files placed in the run folder survive', () => {
    // The probe's files, and an old model directory Tempered's layout knows.
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'sub'), { recursive: true });
    writeFileSync(join(out, 'sub', 'data.csv'), '1,2');
    mkdirSync(join(out, 'models', 'old'), { recursive: true });
    writeFileSync(join(out, 'models', 'old', 'model.json'), '{}');
    writeFileSync(join(out, 'models', 'old', 'extra.txt'), 'also mine');
    writeFileSync(join(out, 'report.md'), 'old report');
    // Diverges again (same config): what matters is what --force removed before it started.
    const r = runCli(['run', configPath, '--out', out, '--force', '--jobs', '1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--force: kept 3 file\(s\) Tempered did not write in .*: models\/old\/extra\.txt, notes\.txt, sub\/data\.csv/);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'sub', 'data.csv'), 'utf8')).toBe('1,2');
    expect(readFileSync(join(out, 'models', 'old', 'extra.txt'), 'utf8')).toBe('also mine');
    expect(existsSync(join(out, 'models', 'old', 'model.json'))).toBe(false);
    expect(existsSync(join(out, 'report.md'))).toBe(false);
  }, 120_000);
});

describe('a finished tiny run', () => {
  const sane = { ...diverging, teacher: { epochs: 1 } };
  const configPath = writeConfig(dir, sane, 'sane.yaml');
  const out = join(dir, 'sane');

  it('prints nothing under --quiet (not even the tfjs banner on cpu), records checksums and its config, and refuses damaged weights', () => {
    const r = runCli(['run', configPath, '--out', out, '--quiet', '--backend', 'cpu', '--jobs', '1']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const modelJson = JSON.parse(readFileSync(join(out, 'models', 'baseline', 'model.json'), 'utf8')) as { weightsSha256?: string };
    expect(modelJson.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { config: { seeds: number[]; model: unknown } };
    expect(results.config.seeds).toEqual([1]);
    expect(results.config.model).toEqual(sane.model);
    expect(runCli(['report', out]).status).toBe(0);
    // The probe's zero-filled weights of the right size: refused by report (and by anything that loads them).
    const weights = join(out, 'models', 'baseline', 'weights.bin');
    writeFileSync(weights, Buffer.alloc(statSync(weights).size));
    const report = runCli(['report', out]);
    expect(report.status).not.toBe(0);
    expect(report.stderr).toMatch(/^error: .*models\/baseline\/weights\.bin: checksum mismatch \(its SHA-256 is not the weightsSha256 recorded in model\.json\); the model is damaged\n$/);
  }, 180_000);
});
