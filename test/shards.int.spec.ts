import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, assertBuilt, readJsonl, runCli, runCliInProcess, smokeConfig, startCli, tempDir, writeConfig, type CliResult } from './helpers.js';

/**
 * Shards as a scheduler runs them (docs/cluster.md): separate processes sharing one run
 * directory, step by step, then `tempered report`. The weights must be those of a single-process
 * run. Also the run lock: a second writer is refused naming the first, and a lock left by a
 * killed run is taken over by --resume.
 *
 * What is about separate processes (the shards of one step side by side, the lock's holder and
 * the second writer, the single-process reference) runs the real binary; the one-at-a-time calls
 * between them (an early step, `report`, a repeated shard) call the CLI's `main` in this process,
 * which saves a second of tfjs loading each.
 */
const { seed: _single, ...config } = smokeConfig({
  seeds: [1, 2],
  dataset: { name: 'mnist', params: { trainSize: 400, testSize: 50 } },
  teacher: { epochs: 2 },
  students: [
    { name: 'baseline', method: 'standard', params: { epochs: 1 } },
    { name: 'kd', method: 'kd', params: { epochs: 1 } },
  ],
  evaluation: { examples: 50, workers: 0, diagnostics: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
});
const MODELS = ['teacher', 'baseline', 'kd'];

/** Runs CLI processes side by side, as a job array would. */
function together(argsList: string[][]): Promise<CliResult[]> {
  return Promise.all(
    argsList.map(
      (args) =>
        new Promise<CliResult>((resolve) => {
          const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('exit', (status) => resolve({ status, stdout, stderr }));
        }),
    ),
  );
}

describe('shards and the run lock', () => {
  const dir = tempDir('shards');
  const configPath = writeConfig(dir, config);
  const reference = join(dir, 'reference');

  beforeAll(() => {
    assertBuilt();
    const r = runCli(['run', configPath, '--out', reference, '--jobs', '1']);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  it('shards in separate processes, step by step, end with the weights of a single-process run', async () => {
    const out = join(dir, 'sharded');
    const shard = (i: number, n: number, step: number) => ['run', configPath, '--out', out, '--shard', `${i}/${n}`, '--step', String(step)];

    // Step 2 before step 1: nothing to run yet, said in one line with its own exit code.
    const early = await runCliInProcess(shard(0, 2, 2));
    expect(early.status).toBe(75);
    expect(early.stderr.trim().split('\n').at(-1)).toMatch(
      /^error: shard 0\/2 \(step 2\): 3 job\(s\) wait for dependencies not done yet: seed-1\/kd \(after seed-1\/teacher\); seed-1\/evaluate\/teacher \(after seed-1\/teacher, seed-1\/baseline\); seed-2\/evaluate\/baseline \(after seed-2\/teacher, seed-2\/baseline\); run this shard again once they are done$/,
    );
    expect(existsSync(join(out, 'seed-1', 'models'))).toBe(false);

    // Step 1: teachers and baselines; 2: kd and the baselines' and teachers' evaluations; 3: kd's evaluations; 4: each seed's results.
    for (const [step, count] of [[1, 2], [2, 3], [3, 2], [4, 1]] as const) {
      const results = await together(Array.from({ length: count }, (_, i) => shard(i, count, step)));
      results.forEach((r, i) => expect(r.status, `step ${step} shard ${i}: ${r.stderr}`).toBe(0));
    }
    const report = await runCliInProcess(['report', out]);
    expect(report.status, report.stderr).toBe(0);

    // A finished job never runs again: a repeated shard finds everything done.
    const linesBefore = readJsonl(join(out, 'seed-1', 'metrics.jsonl')).length;
    const again = await runCliInProcess(shard(0, 2, 1));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/shard 0\/2: ran 0 job\(s\), 2 already done/);
    expect(readJsonl(join(out, 'seed-1', 'metrics.jsonl'))).toHaveLength(linesBefore);

    for (const seed of [1, 2]) {
      for (const model of MODELS) {
        const a = readFileSync(join(reference, `seed-${seed}`, 'models', model, 'weights.bin'));
        expect(readFileSync(join(out, `seed-${seed}`, 'models', model, 'weights.bin')).equals(a), `seed ${seed} ${model}`).toBe(true);
      }
      const ra = JSON.parse(readFileSync(join(reference, `seed-${seed}`, 'results.json'), 'utf8'));
      const rb = JSON.parse(readFileSync(join(out, `seed-${seed}`, 'results.json'), 'utf8'));
      for (const model of Object.keys(ra.models)) expect(rb.models[model].attacks).toEqual(ra.models[model].attacks);
    }
    // Everything but the wall-clock training times (a measurement of each run, not a result of it).
    const models = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'), (key, value) => (key === 'trainingSeconds' ? undefined : value)).models;
    expect(models(out)).toEqual(models(reference));
    expect(JSON.stringify(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).models)).toContain('"trainingSeconds"');
  }, 600_000);

  it('tempered report refuses a run whose jobs are not all done, naming them', async () => {
    const out = join(dir, 'partial');
    const r = await runCliInProcess(['run', configPath, '--out', out, '--shard', '0/1', '--step', '1']);
    expect(r.status, r.stderr).toBe(0);
    const report = await runCliInProcess(['report', out]);
    expect(report.status).toBe(75);
    expect(report.stderr.trim()).toMatch(/^error: \S*partial: 10 job\(s\) not done yet: seed-1\/kd, seed-1\/evaluate\/baseline, seed-1\/evaluate\/kd, seed-1\/evaluate\/teacher, seed-1\/results, seed-2\/kd, /);
  });

  it('refuses a second writer naming the first, and lets --resume take over the lock of a killed run', async () => {
    const out = join(dir, 'locked');
    const first = startCli(['run', configPath, '--out', out, '--jobs', '1']);
    const exited = new Promise<void>((resolve) => first.on('exit', () => resolve()));
    while (!existsSync(join(out, 'run-state.json'))) await new Promise((r) => setTimeout(r, 20));
    // Paused, not gone: the lock's holder stays alive for as long as we need it.
    first.kill('SIGSTOP');

    for (const args of [['--resume'], ['--shard', '0/1']]) {
      const second = runCli(['run', configPath, '--out', out, ...args]);
      expect(second.status, second.stderr).toBe(73);
      const lines = second.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^error: \\S+locked is being written by pid ${first.pid} on ${hostname()} since \\S+ \\(\\S+run\\.lock\\); wait for it or stop it first$`));
    }

    first.kill('SIGKILL');
    await exited;
    expect(existsSync(join(out, 'run.lock'))).toBe(true);
    const resumed = runCli(['run', configPath, '--out', out, '--resume', '--jobs', '1']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(existsSync(join(out, 'run.lock'))).toBe(false);
    for (const model of MODELS) {
      const a = readFileSync(join(reference, 'seed-2', 'models', model, 'weights.bin'));
      expect(readFileSync(join(out, 'seed-2', 'models', model, 'weights.bin')).equals(a), model).toBe(true);
    }
  }, 300_000);
});
