/**
 * The benchmark configs keep working: both pass preflight and the published schema, and the whole
 * MNIST benchmark (every student, both AutoAttack threat models, the seeds' merge) runs end to end
 * on a tiny subset: 64 training digits, 1 epoch, 1-step walks, 12 test digits, a 2-iteration
 * APGD-CE standing in for AutoAttack standard, two of the three seeds, no diagnostics. Only sizes
 * and budgets are cut; the students, their methods and every other parameter are the config's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema, readConfig } from '../packages/cli/src/config.js';
import { pluginSchemas } from '../packages/cli/src/plugins.js';
import { preflight, runContainer } from '../packages/cli/src/run.js';
import { ROOT, assertBuilt, runCli, tempDir, writeConfig } from './helpers.js';

const CONFIGS = ['mnist.yaml', 'fashion-mnist.yaml'];
const METHODS = ['standard', 'defensive-distillation', 'pgd-at', 'trades', 'mart', 'ard', 'rslad', 'iad', 'adaad', 'crdnd'];

type Params = Record<string, unknown>;
interface BenchmarkConfig {
  seeds: number[];
  dataset: { name: string; params?: Params };
  teacher: { epochs: number; params: Params };
  students: Array<{ name: string; method: string; params: Params }>;
  evaluation: { examples: number; workers?: number; diagnostics?: boolean; attacks: Array<{ name: string; as: string; params: Params }> };
}

/** The config with only its sizes and budgets cut. */
function tiny(config: BenchmarkConfig): BenchmarkConfig {
  const cut = (params: Params): Params => ({
    ...params,
    ...('epochs' in params ? { epochs: 1 } : {}),
    ...('steps' in params ? { steps: 1 } : {}),
    ...('teacherEpochs' in params ? { teacherEpochs: 1 } : {}),
    ...('introspectionEpoch' in params ? { introspectionEpoch: 0 } : {}),
  });
  return {
    ...config,
    seeds: config.seeds.slice(0, 2),
    dataset: { ...config.dataset, params: { trainSize: 64, testSize: 12 } },
    teacher: { ...config.teacher, epochs: 1, params: cut(config.teacher.params) },
    students: config.students.map((s) => ({ ...s, params: cut(s.params) })),
    evaluation: {
      ...config.evaluation,
      examples: 12,
      workers: 0,
      diagnostics: false, // their extra attacks are the evaluation's cost at this size; the smoke spec covers them
      attacks: config.evaluation.attacks.map((a) => ({ ...a, params: { ...a.params, version: 'custom', attacks: 'apgd-ce', steps: 2 } })),
    },
  };
}

describe('examples/benchmark', () => {
  for (const file of CONFIGS) {
    it(`${file}: preflight, the published schema, every method, 3 seeds, AutoAttack at L∞ and L2 on ≥ 1,000 examples`, async () => {
      const path = join(ROOT, 'examples/benchmark', file);
      const config = readConfig(path);
      const { container } = await runContainer(config, dirname(path));
      expect(() => preflight(container, config)).not.toThrow();
      const published = new Ajv({ strict: false }).compile(configJsonSchema(pluginSchemas(container)));
      expect(published(parseYaml(readFileSync(path, 'utf8'))), JSON.stringify(published.errors?.[0])).toBe(true);
      expect(config.students.map((s) => s.method.name)).toEqual(METHODS);
      expect(config.seeds).toEqual([1, 2, 3]);
      expect(config.evaluation.examples).toBeGreaterThanOrEqual(1000);
      const norms = config.evaluation.attacks.map((a) => [a.name, a.params.norm]);
      expect(norms).toEqual([['autoattack', 'linf'], ['autoattack', 'l2']]);
      expect(config.evaluation.attacks.every((a) => a.params.version === undefined || a.params.version === 'standard')).toBe(true);
    });
  }

  describe('mnist.yaml on a tiny subset, end to end', () => {
    const dir = tempDir('benchmark');
    const out = join(dir, 'run');
    let status: number | null = null;
    let stderr = '';
    beforeAll(() => {
      assertBuilt();
      const config = tiny(parseYaml(readFileSync(join(ROOT, 'examples/benchmark/mnist.yaml'), 'utf8')) as BenchmarkConfig);
      const r = runCli(['run', writeConfig(dir, config), '--out', out, '--jobs', '2']);
      status = r.status;
      stderr = r.stderr;
    }, 600_000);

    it('trains every student on every seed and evaluates each at both threat models, merged over the seeds', () => {
      expect(status, stderr.split('\n').slice(-8).join('\n')).toBe(0);
      for (const file of ['results.json', 'report.md', 'report.html']) expect(existsSync(join(out, file)), file).toBe(true);
      for (const seed of [1, 2]) {
        const results = JSON.parse(readFileSync(join(out, `seed-${seed}`, 'results.json'), 'utf8'));
        // The students and the teacher they learn from, each evaluated.
        expect(Object.keys(results.models).sort(), `seed ${seed}`).toEqual([...METHODS, 'teacher'].sort());
        for (const [name, model] of Object.entries<Record<string, any>>(results.models)) {
          for (const attack of ['autoattack-linf', 'autoattack-l2']) {
            expect(model.attacks[attack]?.robustAccuracy, `seed ${seed} ${name} ${attack}`).toBeGreaterThanOrEqual(0);
          }
        }
        for (const name of ['ard', 'rslad', 'iad', 'adaad', 'crdnd']) expect(results.models[name].teacher, name).toMatchObject({ method: 'trades' });
      }
      const merged = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(JSON.stringify(merged)).toContain('rslad');
    });
  });
});
