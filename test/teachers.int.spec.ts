import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, readJsonl, runCli, tempDir, writeConfig } from './helpers.js';

/**
 * Teachers end to end through the CLI, on a few hundred real digits: the run's teacher trained
 * with TRADES, one student (ARD) distilling from an earlier PGD-AT student instead, an MTARD
 * student with two teachers by role (robust: the run's; clean: an earlier, wider standard
 * student), and results.json / report.md saying how each teacher was made.
 */
describe('tempered run with teacher.method, students[i].teacher and students[i].teachers', () => {
  const dir = tempDir('teachers');
  const out = join(dir, 'run');
  let status: number | null = null;
  let stderr = '';

  beforeAll(() => {
    assertBuilt();
    const config = {
      name: 'teachers',
      seed: 3,
      backend: 'auto',
      dataset: { name: 'mnist', params: { trainSize: 300, testSize: 20 } },
      model: { name: 'mlp', params: { hiddenSizes: '32' } },
      batchSize: 50,
      teacher: { method: 'trades', params: { beta: 6, epsilon: 0.1, stepSize: 0.05, steps: 2 }, epochs: 1 },
      students: [
        { name: 'pgd-at', method: 'pgd-at', params: { epochs: 1, epsilon: 0.1, stepSize: 0.05, steps: 2 } },
        { name: 'kd', method: 'kd', params: { epochs: 1 } },
        { name: 'ard-from-at', method: 'ard', teacher: 'pgd-at', params: { epochs: 1, epsilon: 0.1, stepSize: 0.05, steps: 2 } },
        // A clean teacher wider than the students (its own model), then a student of both teachers.
        { name: 'clean', method: 'standard', model: { name: 'mlp', params: { hiddenSizes: '64' } }, params: { epochs: 1 } },
        { name: 'mtard', method: 'mtard', teachers: { clean: 'clean', robust: 'teacher' }, params: { epochs: 1, epsilon: 0.1, stepSize: 0.05, steps: 2 } },
      ],
      // No transfer check: the standard student would otherwise become every model's transfer source.
      evaluation: { examples: 20, workers: 0, diagnostics: false, transferFrom: false, attacks: [{ name: 'fgsm', params: { epsilon: 0.1 } }] },
    };
    const r = runCli(['run', writeConfig(dir, config), '--out', out]);
    status = r.status;
    stderr = r.stderr;
  }, 300_000);

  it('trains the teacher with its method and records how each distilled model’s teacher was made', () => {
    expect(status, stderr.split('\n').slice(-5).join('\n')).toBe(0);
    expect(stderr).toMatch(/training teacher \(trades\)/);
    const epochEnds = readJsonl(join(out, 'metrics.jsonl')).filter((l) => l.event === 'epoch:end' && l.model === 'teacher');
    expect(Object.keys(epochEnds[0]!.terms as object).sort()).toEqual(['ce', 'kl']); // TRADES' terms, not standard's
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.models.kd.teacher).toMatchObject({ name: 'teacher', source: 'trained', method: 'trades', model: 'mlp', methodParams: { beta: 6, epsilon: 0.1, epochs: 1 } });
    expect(results.models['ard-from-at'].teacher).toMatchObject({ name: 'pgd-at', source: 'student', method: 'pgd-at', model: 'mlp', methodParams: { epsilon: 0.1 } });
    expect(results.models['pgd-at'].teacher).toBeUndefined();
    // Every role's teacher, primary (robust) first as the method declares (the config wrote clean first), and the primary one as the singular field old readers use.
    expect(Object.keys(results.models.mtard.teachers)).toEqual(['robust', 'clean']);
    expect(results.models.mtard.teachers.robust).toMatchObject({ name: 'teacher', source: 'trained', method: 'trades' });
    expect(results.models.mtard.teachers.clean).toMatchObject({ name: 'clean', source: 'student', method: 'standard', model: 'mlp', methodParams: { epochs: 1 } });
    expect(results.models.mtard.teacher).toEqual(results.models.mtard.teachers.robust);
    expect(results.models.kd).not.toHaveProperty('teachers');
    const mtardEpochs = readJsonl(join(out, 'metrics.jsonl')).filter((l) => l.event === 'epoch:end' && l.model === 'mtard');
    expect(Object.keys(mtardEpochs[0]!.terms as object).sort()).toEqual(['cleanKl', 'cleanWeight', 'robustKl', 'robustWeight']);
    expect(typeof results.models['ard-from-at'].agreement).toBe('number');
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('## Teachers');
    expect(report).toMatch(/\*\*kd\*\* ← teacher: trained with trades \([^)]*\bbeta 6\b/);
    expect(report).toMatch(/\*\*ard-from-at\*\* ← pgd-at, a model of this run: trained with pgd-at \(/);
    expect(report).toMatch(/\*\*mtard\*\* ← robust: teacher: trained with trades \([^)]*\) on mlp; clean: clean, a model of this run: trained with standard \(epochs 1\) on mlp$/m);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<h2>Teachers</h2>');
  });

  it('evaluates the teacher like the students, marks who taught whom, and compares each student with its teacher', () => {
    expect(status, stderr.split('\n').slice(-5).join('\n')).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(Object.keys(results.models)).toEqual(['teacher', 'pgd-at', 'kd', 'ard-from-at', 'clean', 'mtard']);
    // A two-teacher student is read against its primary (robust) teacher only: the clean one taught nobody robust.
    expect(results.models.teacher).toMatchObject({ method: 'trades', taught: ['kd', 'mtard'], methodParams: { beta: 6 } });
    expect(results.models.clean).not.toHaveProperty('taught');
    expect(results.models.teacher.threatModels['linf:0.1'].brokenBy).toHaveLength(20);
    expect(results.models['pgd-at'].taught).toEqual(['ard-from-at']);
    const pairs = results.comparisons.pairs as Array<{ first: string; second: string; measure: string; relation: string; evaluated: number }>;
    expect(pairs.filter((p) => p.relation === 'student-teacher').map((p) => `${p.first}/${p.second}/${p.measure}`).sort()).toEqual(
      ['ard-from-at/pgd-at/clean', 'ard-from-at/pgd-at/linf:0.1', 'kd/teacher/clean', 'kd/teacher/linf:0.1', 'mtard/teacher/clean', 'mtard/teacher/linf:0.1'],
    );
    expect(pairs).toHaveLength(15 * 2);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toMatch(/- (\*\*Flagged\*\*|Passed) \(teacher-worth-distilling\): teacher/);
    expect(report.indexOf('(teacher-worth-distilling)')).toBeLessThan(report.indexOf('## Models'));
    expect(report).toMatch(/\| kd \| teacher \| [-+]?\d+\.\d/);
  });

  it('labels every epoch\'s accuracy with what the method\'s step measured it on', () => {
    expect(status, stderr.split('\n').slice(-5).join('\n')).toBe(0);
    const epochEnds = readJsonl(join(out, 'metrics.jsonl')).filter((l) => l.event === 'epoch:end');
    const on = Object.fromEntries(epochEnds.map((l) => [l.model as string, l.accuracyOn]));
    expect(on).toEqual({ teacher: 'adversarial', 'pgd-at': 'adversarial', kd: 'clean', 'ard-from-at': 'adversarial', clean: 'clean', mtard: 'adversarial' });
    expect(stderr).toMatch(/kd\/train epoch 1\/1 loss \d+\.\d+ acc on clean x \d/);
    expect(stderr).toMatch(/pgd-at\/train epoch 1\/1 loss \d+\.\d+ acc on x′ \d/);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results.models.kd.training.train[0].accuracyOn).toBe('clean');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('train accuracy on x′');
  });
});
