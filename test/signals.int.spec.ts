import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, assertBuilt, readJsonl, runCli, smokeConfig, tempDir, writeConfig } from './helpers.js';

/**
 * SIGINT and SIGTERM on a real run, in training and in evaluation, in one process and with
 * worker processes: the run stops at the next batch with a checkpoint, says how to resume in
 * one line, exits 130/143, leaves no worker process behind, and `--resume` ends bit-identical to
 * a run never stopped. Small on purpose: 400 digits in batches of 8 (50 batches an epoch, so a
 * stop at an epoch end cannot pass for a stop at a batch), two students.
 */
const config = smokeConfig({
  dataset: { name: 'mnist', params: { trainSize: 400, testSize: 100 } },
  batchSize: 8,
  teacher: { epochs: 2 },
  students: [
    { name: 'baseline', method: 'standard', params: { epochs: 1 } },
    { name: 'kd', method: 'kd', params: { epochs: 1 } },
  ],
  evaluation: { examples: 100, workers: 0, diagnostics: false, attacks: [{ name: 'pgd', params: { epsilon: 0.2, stepSize: 0.02, steps: 20 } }] },
});
const MODELS = ['teacher', 'baseline', 'kd'];

interface Stopped {
  readonly code: number | null;
  readonly stderr: string;
  readonly tag: string;
}

/** Processes (the CLI and its workers) started with this tag in their environment. */
function processesTagged(tag: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').includes(`TEMPERED_SPEC_TAG=${tag}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return pids;
}

/** Starts a run and sends `signals` once `when(stderr, metrics)` holds; resolves on exit. */
function stopWhen(args: string[], out: string, signals: NodeJS.Signals[], when: (stderr: string, metrics: Array<Record<string, unknown>>) => boolean): Promise<Stopped> {
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true', TEMPERED_SPEC_TAG: tag }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let sent = false;
  const timer = setInterval(() => {
    if (sent || !when(stderr, readJsonl(join(out, 'metrics.jsonl')))) return;
    sent = true;
    // Standard signals do not queue: a second one sent at once would merge with the first.
    signals.forEach((signal, i) => setTimeout(() => child.kill(signal), i * 5));
  }, 20);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stderr, tag });
    }),
  );
}

const teacherEpochs = (metrics: Array<Record<string, unknown>>) => metrics.filter((l) => l.event === 'epoch:end' && l.model === 'teacher').length;

describe('SIGINT and SIGTERM', () => {
  const dir = tempDir('signals');
  const configPath = writeConfig(dir, config);
  const reference = join(dir, 'reference');

  beforeAll(() => {
    assertBuilt();
    const r = runCli(['run', configPath, '--out', reference, '--jobs', '1']);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  function expectSameAsReference(out: string): void {
    for (const model of MODELS) {
      const a = readFileSync(join(reference, 'models', model, 'weights.bin'));
      expect(readFileSync(join(out, 'models', model, 'weights.bin')).equals(a), `${model} weights differ after --resume`).toBe(true);
    }
    // Every model's epoch metrics as logged (the teacher's too, whose epoch the stop cut): the
    // last record of each epoch, as the reports read them, equals the uninterrupted run's.
    const epochMetrics = (dir: string) => {
      const last = new Map<string, unknown>();
      for (const l of readJsonl(join(dir, 'metrics.jsonl'))) {
        if (l.event === 'epoch:end') last.set(`${l.model}/${l.phase}/${l.epoch}`, { loss: l.loss, accuracy: l.accuracy, terms: l.terms });
      }
      return Object.fromEntries([...last].sort(([a], [b]) => a.localeCompare(b)));
    };
    expect(epochMetrics(out), 'training metrics differ after --resume').toEqual(epochMetrics(reference));
    const ra = JSON.parse(readFileSync(join(reference, 'results.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    for (const model of Object.keys(ra.models)) {
      expect(rb.models[model].cleanAccuracy).toBe(ra.models[model].cleanAccuracy);
      expect(rb.models[model].attacks).toEqual(ra.models[model].attacks);
      // The training curves too: an epoch resumed mid-way reports the loss and accuracy of the whole epoch.
      expect(rb.models[model].training, `${model} training metrics differ after --resume`).toEqual(ra.models[model].training);
    }
  }

  function expectResumeLine(stopped: Stopped, signal: string): void {
    const last = stopped.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^stopped by ${signal}; continue with: tempered run \\S+ --out \\S+ (--jobs \\d )?--resume$`));
  }

  const training = [
    { signal: 'SIGTERM' as const, exit: 143, jobs: '1' },
    { signal: 'SIGINT' as const, exit: 130, jobs: '2' },
  ];
  for (const c of training) {
    it(`${c.signal} during training (--jobs ${c.jobs}) stops within a batch, checkpoints, and resumes bit-identically`, async () => {
      const out = join(dir, `train-${c.signal}`);
      // Sent just after the teacher's first epoch: the stop must come inside its second.
      const stopped = await stopWhen(['run', configPath, '--out', out, '--jobs', c.jobs], out, [c.signal], (_, metrics) => teacherEpochs(metrics) >= 1);
      expect(stopped.code, stopped.stderr).toBe(c.exit);
      expectResumeLine(stopped, c.signal);
      const metrics = readJsonl(join(out, 'metrics.jsonl'));
      expect(teacherEpochs(metrics)).toBe(1);
      const checkpoint = metrics.filter((l) => l.event === 'checkpoint' && l.model === 'teacher').at(-1)!;
      expect(checkpoint.reason).toBe('signal');
      expect(checkpoint.position).toMatchObject({ epoch: 1 });
      expect((checkpoint.position as { batch: number }).batch).toBeGreaterThan(0);
      expect(existsSync(join(out, 'checkpoints', 'teacher', 'latest.json'))).toBe(true);
      expect(existsSync(join(out, 'models', 'teacher'))).toBe(false);
      expect(processesTagged(stopped.tag), 'worker processes outlived the run').toEqual([]);
      expect(existsSync(join(out, 'run.lock')), 'the run lock outlived the run').toBe(false);

      const resumed = runCli(['run', configPath, '--out', out, '--resume', '--jobs', c.jobs]);
      expect(resumed.status, resumed.stderr).toBe(0);
      expectSameAsReference(out);
    }, 300_000);
  }

  const evaluation = [
    { signal: 'SIGTERM' as const, exit: 143, jobs: '1' },
    { signal: 'SIGINT' as const, exit: 130, jobs: '2' },
  ];
  for (const c of evaluation) {
    it(`${c.signal} during evaluation (--jobs ${c.jobs}) stops, keeps the trained models, and resumes to the same results`, async () => {
      const out = join(dir, `evaluate-${c.signal}`);
      // While kd is evaluated: every model is trained by then (with --jobs 2 baseline's evaluation may overlap kd's training).
      const trained = () => MODELS.every((m) => existsSync(join(out, 'jobs', 'seed-1', `${m}.done`)));
      const stopped = await stopWhen(['run', configPath, '--out', out, '--jobs', c.jobs], out, [c.signal], (stderr) => /evaluating kd/.test(stderr) && trained());
      expect(stopped.code, stopped.stderr).toBe(c.exit);
      expectResumeLine(stopped, c.signal);
      expect(existsSync(join(out, 'results.json'))).toBe(false);
      for (const model of MODELS) expect(existsSync(join(out, 'jobs', 'seed-1', `${model}.done`)), model).toBe(true);
      expect(existsSync(join(out, 'jobs', 'seed-1', 'evaluate', 'kd.done'))).toBe(false);
      expect(processesTagged(stopped.tag), 'worker processes outlived the run').toEqual([]);

      const resumed = runCli(['run', configPath, '--out', out, '--resume', '--jobs', c.jobs]);
      expect(resumed.status, resumed.stderr).toBe(0);
      // Training is not repeated: the models' files are the ones written before the stop.
      expect(resumed.stderr).not.toMatch(/training /);
      expectSameAsReference(out);
    }, 300_000);
  }

  it('a second SIGINT exits at once, taking the worker processes with it', async () => {
    const out = join(dir, 'twice');
    const stopped = await stopWhen(['run', configPath, '--out', out, '--jobs', '2'], out, ['SIGINT', 'SIGINT'], (_, metrics) => teacherEpochs(metrics) >= 1);
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).not.toMatch(/continue with/);
    // Not silent: the second signal says what it does.
    expect(stopped.stderr.trim().split('\n').at(-1)).toMatch(/^second SIGINT: exiting now without waiting for the current batch; --resume continues from the last checkpoint$/);
    // Workers end on their own once their parent's IPC channel closes.
    await new Promise((r) => setTimeout(r, 1500));
    expect(processesTagged(stopped.tag), 'worker processes outlived the run').toEqual([]);
  }, 120_000);
});
