import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, readJsonl, runCli, smokeConfig, tempDir } from './helpers.js';

/**
 * End to end on real data: `tempered run examples/smoke/config.yaml` trains a teacher and every
 * method on 1,000 embedded MNIST digits, attacks each model with FGSM, PGD, JSMA and C&W on the
 * first test digits (as many as the config says), and writes the run directory.
 */
describe('tempered run examples/smoke', () => {
  const out = join(tempDir('smoke'), 'run');
  let stderr = '';
  let status: number | null = null;

  beforeAll(() => {
    assertBuilt();
    const r = runCli(['run', 'examples/smoke/config.yaml', '--out', out]);
    stderr = r.stderr;
    status = r.status;
  }, 600_000);

  it('exits 0 and writes every artefact', () => {
    expect(status, stderr.split('\n').slice(-5).join('\n')).toBe(0);
    for (const file of ['results.json', 'report.md', 'report.html', 'metrics.jsonl', 'run-state.json']) expect(existsSync(join(out, file)), file).toBe(true);
    for (const model of ['teacher', 'baseline', 'defensive-distillation', 'kd', 'pgd-at', 'ard', 'crdnd']) {
      expect(existsSync(join(out, 'models', model, 'model.json')), model).toBe(true);
      expect(existsSync(join(out, 'models', model, 'weights.bin')), model).toBe(true);
    }
    expect(existsSync(join(out, 'checkpoints', 'crdnd', 'latest.json'))).toBe(true);
  });

  it('records the backend, seed, example count and every model and attack in results.json', () => {
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.schemaVersion).toBe(2);
    expect(results.seed).toBe(1);
    expect(results.evaluatedExamples).toBe((smokeConfig().evaluation as { examples: number }).examples);
    expect(results.backend.name).toBe('wasm');
    expect(results.backend.source).toMatch(/@tempered\/wasm-train/);
    // The run's teacher is a model of the run, evaluated like the students.
    expect(Object.keys(results.models).sort()).toEqual(['ard', 'baseline', 'crdnd', 'defensive-distillation', 'kd', 'pgd-at', 'teacher']);
    expect(results.models.teacher.taught).toEqual(['kd', 'ard', 'crdnd']);
    for (const [name, model] of Object.entries<Record<string, any>>(results.models)) {
      expect(model.cleanAccuracy, name).toBeGreaterThan(0.1);
      for (const attack of ['fgsm', 'pgd', 'jsma', 'cw']) {
        const a = model.attacks[attack];
        expect(a, `${name}.${attack}`).toBeDefined();
        for (const key of ['successRate', 'robustAccuracy', 'meanL0', 'meanL2', 'meanLinf']) expect(a, `${name}.${attack}.${key}`).toHaveProperty(key);
        // Robust accuracy and success rate are computed apart; for an untargeted attack a success
        // turns a correct example wrong, so robust = clean × (1 − success rate).
        if (a.mode === 'untargeted') expect(a.robustAccuracy, `${name}.${attack}`).toBeCloseTo(model.cleanAccuracy * (1 - a.successRate), 9);
      }
      expect(Array.isArray(model.diagnostics)).toBe(true);
      // The phase that produced the model (one-phase methods: `train`; defensive distillation: `student`).
      expect(Object.values(model.training as Record<string, unknown[]>).at(-1)!.length).toBeGreaterThanOrEqual(2);
    }
    // The baseline is trained for real: far above chance, and PGD at ε = 0.2 breaks an undefended MLP.
    expect(results.models.baseline.cleanAccuracy).toBeGreaterThan(0.6);
    expect(results.models.baseline.attacks.pgd.successRate).toBeGreaterThan(0.8);
    expect(results.models['defensive-distillation'].methodParams.temperature).toBe(20);
    // How each distilled model's teacher was made is recorded; methods without a teacher have none.
    for (const name of ['kd', 'ard', 'crdnd']) {
      expect(results.models[name].teacher, name).toMatchObject({ name: 'teacher', source: 'trained', method: 'standard', model: 'mlp' });
    }
    expect(results.models.baseline.teacher).toBeUndefined();
    // Each model is evaluated in its own job; the transfer check still gets the baseline as its source.
    const transfer = (name: string) => results.models[name].diagnostics.find((d: { id: string }) => d.id === 'transfer-beats-white-box');
    expect(transfer('ard').status).not.toBe('not-run');
    expect(transfer('baseline').status).toBe('not-run');
    // Defensive distillation trains its own teacher at T unless reuseTeacher is set.
    expect(results.models['defensive-distillation'].teacher).toBeUndefined();
  });

  it('logs one JSON object per event, epoch ends carrying model, epoch, losses, accuracy and numTensors', () => {
    const lines = readJsonl(join(out, 'metrics.jsonl'));
    const epochEnds = lines.filter((l) => l.event === 'epoch:end');
    expect(epochEnds.length).toBeGreaterThanOrEqual(17);
    for (const line of epochEnds) {
      for (const key of ['model', 'epoch', 'loss', 'terms', 'accuracy', 'numTensors']) expect(line, JSON.stringify(line)).toHaveProperty(key);
      expect(Number.isFinite(line.loss)).toBe(true);
    }
    expect(new Set(epochEnds.map((l) => l.model))).toEqual(new Set(['teacher', 'baseline', 'defensive-distillation', 'kd', 'pgd-at', 'ard', 'crdnd']));
    expect(lines.filter((l) => l.event === 'checkpoint').length).toBe(epochEnds.length);
  });

  it('prints plain progress lines (no carriage returns) when not on a TTY', () => {
    expect(stderr).toMatch(/baseline\/train epoch 2\/2 loss \d/);
    expect(stderr).not.toContain('\r');
  });

  it('renders the same reports again from results.json alone', () => {
    const before = readFileSync(join(out, 'report.md'), 'utf8');
    const r = runCli(['report', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(before);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<svg/);
  });
});
