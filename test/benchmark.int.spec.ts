/**
 * The benchmark configs keep working: both pass preflight and the published schema, and the whole
 * MNIST benchmark (every student, both AutoAttack threat models, the seeds' merge) runs end to end
 * on a tiny subset: 64 training digits, 1 epoch, 1-step walks, 12 test digits, a 2-iteration
 * APGD-CE standing in for AutoAttack standard, two of the three seeds, no diagnostics. Only sizes
 * and budgets are cut; the students, their methods and every other parameter are the config's.
 */
import { spawnSync } from 'node:child_process';
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
const read = (file: string): BenchmarkConfig => parseYaml(readFileSync(join(ROOT, 'examples/benchmark', file), 'utf8')) as BenchmarkConfig;

/**
 * mnist-quick.yaml as its header says it is made: mnist.yaml's 20 epochs cut to 4 (milestones and
 * IAD's introspection epoch scaled with them), its 40-step walks cut to 10 steps of four times the
 * step, 200 evaluation examples, and nothing else changed.
 */
function quick(config: BenchmarkConfig): BenchmarkConfig {
  const ratio = 4 / 20;
  const cut = (params: Params): Params => {
    const out: Params = { ...params };
    for (const key of ['epochs', 'teacherEpochs']) if (key in out) out[key] = 4;
    if (typeof out.introspectionEpoch === 'number') out.introspectionEpoch = Math.round(out.introspectionEpoch * ratio);
    if (out.steps === 40) Object.assign(out, { steps: 10, stepSize: (out.stepSize as number) * 4 });
    const schedule = out.schedule as { milestones?: number[] } | undefined;
    if (schedule?.milestones) out.schedule = { ...schedule, milestones: schedule.milestones.map((m) => m * ratio) };
    return out;
  };
  return {
    ...config,
    name: `${config.name}-quick`,
    teacher: { ...config.teacher, epochs: 4, params: cut(config.teacher.params) },
    students: config.students.map((s) => ({ ...s, params: cut(s.params) })),
    evaluation: { ...config.evaluation, examples: 200 },
  };
}

/** Numbers compared to 4 significant digits (the YAML writes 10.8 × 0.2 as 2.16). */
const rounded = (value: unknown): unknown =>
  typeof value === 'number' ? Number(value.toPrecision(4)) : Array.isArray(value) ? value.map(rounded) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)])) : value;
const METHODS = ['standard', 'defensive-distillation', 'pgd-at', 'trades', 'mart', 'ard', 'rslad', 'iad', 'adaad', 'crdnd', 'standard', 'mtard'];

type Params = Record<string, unknown>;
interface BenchmarkConfig {
  name: string;
  model: Params;
  seeds: number[];
  dataset: { name: string; params?: Params };
  teacher: { epochs: number; params: Params; path?: string };
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
      attacks: config.evaluation.attacks.map((a) =>
        a.name === 'autoattack' ? { ...a, params: { ...a.params, version: 'custom', attacks: 'apgd-ce', steps: 2 } } : { ...a, params: { ...a.params, steps: 2 } },
      ),
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
      const norms = config.evaluation.attacks.map((a) => [a.name, a.params.norm ?? 'linf']);
      expect(norms).toEqual([['autoattack', 'linf'], ['pgd', 'linf'], ['autoattack', 'l2']]);
      // Every student trains by an explicit optimiser and schedule (the authors', scaled), never a default.
      const raw = read(file);
      for (const [name, params] of [['teacher', raw.teacher.params], ...raw.students.map((s) => [s.name, s.params] as const)] as const) {
        expect(params.optimizer, name).toBeDefined();
        expect(params.schedule, name).toBeDefined();
      }
      expect(config.evaluation.attacks.every((a) => a.params.version === undefined || a.params.version === 'standard')).toBe(true);
    });
  }

  // fashion-mnist-quick.yaml also trains on the first 8,000 of the 60,000 images (the embedded MNIST's training size).
  for (const [file, full, trainSize] of [['mnist-quick.yaml', 'mnist.yaml', undefined], ['fashion-mnist-quick.yaml', 'fashion-mnist.yaml', 8000]] as const) {
    it(`${file} is ${full} with only its sizes cut, and passes preflight`, async () => {
      const cut = quick(read(full));
      const expected = trainSize === undefined ? cut : { ...cut, dataset: { ...cut.dataset, params: { ...cut.dataset.params, trainSize } } };
      expect(rounded(read(file))).toEqual(rounded(expected));
      const path = join(ROOT, 'examples/benchmark', file);
      const config = readConfig(path);
      const { container } = await runContainer(config, dirname(path));
      expect(() => preflight(container, config)).not.toThrow();
    });
  }

  it("ablations/loss-scale.yaml trains mnist-quick.yaml's RSLAD, AdaAD and MTARD as configured (rate 0.1), ARD at a tenth of its rate, and is a valid config", async () => {
    // The committed quick run trained these three at 0.01 and ARD with the true KL at 0.01: the
    // ablation measures both against the configs' rule (a KL divided by C keeps the authors' 0.1).
    const [base, ablation] = [read('mnist-quick.yaml'), read('ablations/loss-scale.yaml')];
    const byName = new Map(base.students.map((s) => [s.name, s]));
    const expected = ablation.students.map((s) => {
      const from = byName.get(s.name.replace(/-lr-x10$|-mean$/, ''))!;
      if (!s.name.endsWith('-mean')) return { ...from, name: s.name };
      const optimizer = from.params.optimizer as { learningRate: number };
      return { ...from, name: s.name, params: { ...from.params, optimizer: { ...optimizer, learningRate: optimizer.learningRate / 10 } } };
    });
    expect(rounded(ablation.students)).toEqual(rounded(expected));
    expect(ablation.students.filter((s) => s.name.endsWith('-lr-x10')).map((s) => (s.params.optimizer as { learningRate: number }).learningRate)).toEqual([0.1, 0.1, 0.1]);
    expect(ablation.students.map((s) => s.method)).toEqual(['standard', 'rslad', 'adaad', 'mtard', 'ard']);
    // The same data, students' architecture and L∞ threat model; the teacher is seed 1's of the quick run.
    expect([ablation.dataset, ablation.model, ablation.evaluation.examples]).toEqual([base.dataset, base.model, base.evaluation.examples]);
    expect(ablation.evaluation.attacks).toEqual(base.evaluation.attacks.slice(0, 2));
    expect(ablation.teacher).toMatchObject({ path: 'runs/benchmark-mnist-quick/seed-1/models/teacher' });
    const path = join(ROOT, 'examples/benchmark/ablations/loss-scale.yaml');
    const { container } = await runContainer(readConfig(path), dirname(path));
    const published = new Ajv({ strict: false }).compile(configJsonSchema(pluginSchemas(container)));
    expect(published(parseYaml(readFileSync(path, 'utf8'))), JSON.stringify(published.errors?.[0])).toBe(true);
  });

  it("fashion-mnist.yaml trains every model by mnist.yaml's recipe, its walks scaled to ε 0.1", () => {
    const [mnist, fashion] = [read('mnist.yaml'), read('fashion-mnist.yaml')];
    const recipe = (c: BenchmarkConfig) => [c.teacher, ...c.students].map((s) => {
      const { epsilon, stepSize, ...rest } = s.params;
      return { ...rest, walk: epsilon === undefined ? undefined : Number(((stepSize as number) / (epsilon as number)).toPrecision(2)) };
    });
    expect(rounded(recipe(fashion))).toEqual(rounded(recipe(mnist)));
    expect(fashion.students.map((s) => s.params.epsilon ?? 0.1)).toEqual(fashion.students.map(() => 0.1));
  });

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
      for (const file of ['results.json', 'report.md', 'report.html', 'leaderboard.md', 'leaderboard.html']) expect(existsSync(join(out, file)), file).toBe(true);
      for (const seed of [1, 2]) {
        const results = JSON.parse(readFileSync(join(out, `seed-${seed}`, 'results.json'), 'utf8'));
        // The students and the teacher they learn from, each evaluated.
        expect(Object.keys(results.models).sort(), `seed ${seed}`).toEqual([...read('mnist.yaml').students.map((s) => s.name), 'teacher'].sort());
        for (const [name, model] of Object.entries<Record<string, any>>(results.models)) {
          for (const attack of ['autoattack-linf', 'autoattack-l2']) {
            expect(model.attacks[attack]?.robustAccuracy, `seed ${seed} ${name} ${attack}`).toBeGreaterThanOrEqual(0);
          }
        }
        for (const name of ['ard', 'rslad', 'iad', 'adaad', 'crdnd']) expect(results.models[name].teacher, name).toMatchObject({ method: 'trades' });
        // MTARD learns from the run's robust teacher and the full-width, naturally trained one.
        expect(results.models.mtard.teachers).toMatchObject({ robust: { name: 'teacher', method: 'trades' }, clean: { name: 'clean-teacher', method: 'standard' } });
      }
      // The leaderboard ranks the learners; both teachers stand apart, and every method is compared with ARD.
      const leaderboard = readFileSync(join(out, 'leaderboard.md'), 'utf8');
      const ranking = leaderboard.split('## Ranking')[1]!.split('\n## ')[0]!;
      const ranked = ranking.split('\n').filter((l) => /^\| \d+ \|/.test(l)).map((l) => l.split(' | ')[1]);
      expect(ranked.sort()).toEqual(read('mnist.yaml').students.map((s) => s.name).filter((n) => n !== 'clean-teacher').sort());
      expect(leaderboard).toMatch(/## Paired comparison with the reference/);
      const merged = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      expect(JSON.stringify(merged)).toContain('rslad');
      // The results name the checkout that produced them (git's own answer; none outside a repository).
      const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
      expect(merged.source?.commit).toBe(head.status === 0 ? head.stdout.trim() : undefined);
      if (merged.source) expect(leaderboard).toContain(`commit ${merged.source.commit.slice(0, 7)}`);
    });
  });
});
