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
  const examples = readdirSync(join(ROOT, 'examples')).filter((d) => existsSync(join(ROOT, 'examples', d, 'config.yaml')));

  it('covers the documented examples', () => {
    expect(examples.sort()).toEqual(['compare-robust-distillation', 'custom-method', 'papernot-mnist', 'quickstart', 'smoke']);
  });

  for (const example of examples) {
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

  it('quickstart has the four students the README promises and its five attacks', () => {
    const config = readConfig(join(ROOT, 'examples/quickstart/config.yaml'));
    expect(config.students.map((s) => s.name)).toEqual(['baseline', 'defensive-distillation', 'ard', 'crdnd']);
    expect(config.evaluation.attacks.map((a) => a.name).sort()).toEqual(['autoattack', 'cw', 'fgsm', 'jsma', 'pgd']);
    expect(config.dataset.name).toBe('mnist');
  });

  it('quickstart and compare-robust-distillation distil ARD and CRDND from a robust teacher', () => {
    for (const example of ['quickstart', 'compare-robust-distillation']) {
      const config = readConfig(join(ROOT, 'examples', example, 'config.yaml'));
      expect(['trades', 'pgd-at'], example).toContain(config.teacher?.method.name);
      expect(config.teacher?.path, example).toBeUndefined();
      for (const name of ['ard', 'crdnd']) {
        const student = config.students.find((s) => s.name === name)!;
        // No per-student override: they distil from the run's robust teacher.
        expect(student.teacher, `${example}.${name}`).toBeUndefined();
      }
    }
  });

  it('compare-robust-distillation runs three seeds on Fashion-MNIST', () => {
    const config = readConfig(join(ROOT, 'examples/compare-robust-distillation/config.yaml'));
    expect(config.seeds).toEqual([1, 2, 3]);
    expect(config.dataset.name).toBe('fashion-mnist');
  });
});
