import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, runCli, tempDir, writeConfig } from './helpers.js';

/** A config with several seeds keeps every seed's run and reports mean ± standard deviation. */
describe('several seeds', () => {
  const dir = tempDir('seeds');
  const out = join(dir, 'run');
  let result: ReturnType<typeof runCli>;

  beforeAll(() => {
    assertBuilt();
    const config = {
      name: 'seeds',
      seeds: [1, 2],
      dataset: { name: 'mnist', params: { trainSize: 300, testSize: 40 } },
      model: { name: 'mlp', params: { hiddenSizes: '32' } },
      batchSize: 50,
      students: [{ name: 'baseline', method: 'standard', params: { epochs: 2 } }, { name: 'short', method: 'standard', params: { epochs: 1 } }],
      evaluation: { examples: 40, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }], leaderboard: { reference: 'baseline' } },
    };
    result = runCli(['run', writeConfig(dir, config), '--out', out]);
  }, 300_000);

  it('runs each seed into its own directory and merges them', () => {
    expect(result.status, result.stderr).toBe(0);
    const perSeed = [1, 2].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'results.json'), 'utf8')));
    expect(perSeed.map((r) => r.seed)).toEqual([1, 2]);
    // Different seeds give different models (initialisation and shuffling both follow the seed).
    expect(perSeed[0].models.baseline.training).not.toEqual(perSeed[1].models.baseline.training);
    const merged = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(merged.seeds).toEqual([1, 2]);
    const accuracies = perSeed.map((r) => r.models.baseline.cleanAccuracy as number);
    const mean = (accuracies[0]! + accuracies[1]!) / 2;
    expect(merged.models.baseline.cleanAccuracy).toBeCloseTo(mean, 10);
    // Sample standard deviation over the seeds (n − 1).
    expect(merged.models.baseline.std.cleanAccuracy).toBeCloseTo(Math.abs(accuracies[0]! - accuracies[1]!) / Math.SQRT2, 10);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/±/);
  });

  it('compares the models across seeds, each seed paired example by example', () => {
    expect(result.status, result.stderr).toBe(0);
    const perSeed = [1, 2].map((s) => JSON.parse(readFileSync(join(out, `seed-${s}`, 'results.json'), 'utf8')));
    // Each seed's own results.json compares its two models on its examples.
    expect(perSeed[0].comparisons.pairs.map((p: { first: string; second: string; measure: string }) => `${p.first}/${p.second}/${p.measure}`)).toEqual(['baseline/short/clean', 'baseline/short/linf:0.1']);
    const merged = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(merged.seedsShareTestExamples).toBe(true);
    const clean = merged.comparisons.acrossSeeds.find((c: { measure: string }) => c.measure === 'clean');
    const differences = perSeed.map((r) => r.models.baseline.cleanAccuracy - r.models.short.cleanAccuracy);
    expect(clean.differences[0]).toBeCloseTo(differences[0]!, 12);
    expect(clean.differences[1]).toBeCloseTo(differences[1]!, 12);
    expect(clean.mean).toBeCloseTo((differences[0]! + differences[1]!) / 2, 12);
    expect(clean.perSeedPValues).toEqual(perSeed.map((r) => r.comparisons.pairs[0].pValue));
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('### Across seeds');
    expect(report).toContain('Every seed evaluated the same test examples');
  });

  it('writes the leaderboard beside each report, and `tempered report` rebuilds it from merged seeds', () => {
    expect(result.status, result.stderr).toBe(0);
    for (const where of [out, join(out, 'seed-1'), join(out, 'seed-2')]) {
      for (const file of ['leaderboard.md', 'leaderboard.html']) expect(existsSync(join(where, file)), join(where, file)).toBe(true);
    }
    // The run recorded what the model cards need: each model's training-job time and weight count, the method's description.
    const seed = JSON.parse(readFileSync(join(out, 'seed-1', 'results.json'), 'utf8'));
    expect(seed.models.baseline.trainingSeconds).toBeGreaterThan(0);
    expect(seed.models.baseline.parameters).toBeGreaterThan(0);
    expect(seed.models.baseline.methodDescription).toEqual(expect.any(String));
    const merged = join(dir, 'merged');
    const report = runCli(['report', join(out, 'seed-1'), join(out, 'seed-2'), '--out', merged]);
    expect(report.status, report.stderr).toBe(0);
    const leaderboard = readFileSync(join(merged, 'leaderboard.md'), 'utf8');
    expect(leaderboard).toContain('Reference: **baseline**');
    expect(leaderboard).toMatch(/\| 1 \| (baseline|short) \| standard \| \d+\.\d ± \d+\.\d \[/);
    expect(readFileSync(join(merged, 'leaderboard.html'), 'utf8')).toContain('<svg class="chart tradeoff"');
  });
});
