import { describe, expect, it } from 'vitest';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { configJsonSchema, readConfig } from '../packages/cli/src/config.js';
import { pluginSchemas } from '../packages/cli/src/plugins.js';
import { preflight, runContainer } from '../packages/cli/src/run.js';
import { ROOT } from './helpers.js';

/** Every example config parses, names only registered plugins, and passes parameter validation. */
describe('example configs', () => {
  /** An example is a folder of runnable configs: `config.yaml`, or several (benchmark's per dataset, recipes' per method). */
  const configsOf = (example: string) => readdirSync(join(ROOT, 'examples', example)).filter((f) => f.endsWith('.yaml')).sort();
  const examples = readdirSync(join(ROOT, 'examples')).filter((d) => configsOf(d).length > 0);
  const withConfig = examples.filter((d) => existsSync(join(ROOT, 'examples', d, 'config.yaml')));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  /** The README's "Examples:" paragraph: each linked example with its parenthetical, e.g. "Fashion-MNIST, 3 seeds". */
  const documented = new Map(
    [...(/^Examples: ([\s\S]*?)\.\n/m.exec(readme)?.[1] ?? '').matchAll(/\[`([\w-]+)`\]\(examples\/([\w-]+)\)(?: \(([^)]*)\))?/g)].map((m) => {
      expect(m[2], `README link text ${m[1]} and target examples/${m[2]} differ`).toBe(m[1]);
      return [m[1]!, m[3] ?? ''] as const;
    }),
  );

  it('the README lists exactly the example folders that hold a config', () => {
    expect(documented.size).toBeGreaterThan(0);
    expect([...documented.keys()].sort()).toEqual([...examples].sort());
  });

  for (const example of withConfig) {
    it(`${example}/config.yaml is valid`, async () => {
      const path = join(ROOT, 'examples', example, 'config.yaml');
      const config = readConfig(path);
      const { container } = await runContainer(config, dirname(path));
      expect(() => preflight(container, config)).not.toThrow();
      // What `tempered schema` publishes (plugin params included) accepts what the CLI runs.
      const published = new Ajv({ strict: false }).compile(configJsonSchema(pluginSchemas(container)));
      expect(published(parseYaml(readFileSync(path, 'utf8'))), JSON.stringify(published.errors?.[0])).toBe(true);
    });
  }

  it('quickstart trains the students the README says `npm run demo` trains, on the data it names', () => {
    // "the main job: baseline, defensive distillation, ARD and CRDND on embedded MNIST → runs/quickstart/"
    const line = /npm run demo +# the main job: (.*) on (.*) → runs\/quickstart\//.exec(readme);
    expect(line, 'the README describes the demo').not.toBeNull();
    const promised = line![1]!.split(/, | and /).map((name) => name.toLowerCase().replace(/ /g, '-'));
    const config = readConfig(join(ROOT, 'examples/quickstart/config.yaml'));
    expect(config.students.map((s) => s.name)).toEqual(promised);
    expect(line![2]).toBe(config.dataset.name === 'mnist' ? 'embedded MNIST' : config.dataset.name);
  });

  it('the README\'s "N seeds" and dataset notes match the configs they describe', () => {
    for (const [example, note] of documented) {
      const configs = configsOf(example).map((file) => readConfig(join(ROOT, 'examples', example, file)));
      const seeds = /(\d+) seeds/.exec(note);
      if (seeds) for (const config of configs) expect(config.seeds, example).toHaveLength(Number(seeds[1]));
      if (/Fashion-MNIST/.test(note)) expect(configs.map((c) => c.dataset.name), example).toContain('fashion-mnist');
    }
  });

  it('quickstart and compare-robust-distillation distil ARD and CRDND from a teacher trained under attack', () => {
    for (const example of ['quickstart', 'compare-robust-distillation']) {
      const config = readConfig(join(ROOT, 'examples', example, 'config.yaml'));
      expect(config.teacher?.path, example).toBeUndefined();
      // Robust: its method maximises the loss in an ε-ball at least as large as the students' own.
      const teacherEpsilon = Number(config.teacher?.method.params.epsilon ?? 0);
      for (const name of ['ard', 'crdnd']) {
        const student = config.students.find((s) => s.method.name === name)!;
        // No per-student override: they distil from the run's robust teacher.
        expect(student.teacher, `${example}.${name}`).toBeUndefined();
        expect(teacherEpsilon, `${example}: teacher ε vs ${name}'s`).toBeGreaterThanOrEqual(Number(student.method.params.epsilon ?? 0));
      }
      expect(teacherEpsilon, example).toBeGreaterThan(0);
    }
  });
});
