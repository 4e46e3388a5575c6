import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, assertBuilt } from './helpers.js';

/** The `tempered` command as npm links it (node_modules/.bin), with its help texts. */
const BIN = join(ROOT, 'node_modules/.bin/tempered');
const run = (...args: string[]) => spawnSync(BIN, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: 'true' } });

describe('the tempered command', () => {
  it('is linked by npm and reports its version', () => {
    assertBuilt();
    const version = (JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;
    const r = run('--version');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('lists its commands, and each command has its own help', () => {
    const main = run('--help');
    expect(main.status).toBe(0);
    for (const command of ['run', 'bench', 'report', 'explore', 'schema', 'list', 'new']) {
      expect(main.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
      const help = run(command, '--help');
      expect(help.status, command).toBe(0);
      expect(help.stdout, command).toMatch(new RegExp(`^Usage: tempered ${command}`));
    }
    expect(run('run', '--help').stdout).toMatch(/--resume[\s\S]*--force[\s\S]*--backend NAME[\s\S]*--seed N[\s\S]*--quiet/);
  });

  it('lists every registered plugin and exports the config JSON Schema with their params', () => {
    const list = run('list');
    // One line per plugin: kind, name, description.
    const rows = list.stdout.trim().split('\n').map((line) => /^(\S+)\s+(\S+)\s+(.+)$/.exec(line));
    expect(rows.every((r) => r !== null), list.stdout).toBe(true);
    const names = (kind: string) => rows.filter((r) => r![1] === kind).map((r) => r![2]);
    expect(names('method')).toEqual(expect.arrayContaining(['adaad', 'ard', 'crdnd', 'defensive-distillation', 'iad', 'kd', 'mart', 'mtard', 'pgd-at', 'rslad', 'standard', 'trades']));
    expect(names('attack')).toEqual(expect.arrayContaining(['apgd', 'autoattack', 'cw', 'fab', 'fgsm', 'jsma', 'pgd', 'square']));
    expect(list.stdout).toMatch(/^method\s+ard\s+Adversarially Robust Distillation \(Goldblum et al\. 2020\)/m);
    type Conditional = { if: { properties: { method: { const?: string } } }; then: { properties: { params: { properties: Record<string, unknown> } } } };
    const schema = JSON.parse(run('schema').stdout) as { properties: { students: { items: { allOf: Conditional[] } }; teacher: { allOf: Conditional[] } } };
    const ard = schema.properties.students.items.allOf.find((c) => c.if.properties.method.const === 'ard')!;
    expect(ard.then.properties.params.properties).toHaveProperty('epsilon');
    expect(ard.then.properties.params.properties).toHaveProperty('temperature');
    expect(ard.then.properties.params.properties).toHaveProperty('attackTrainingMode');
    // The teacher's params follow its method, e.g. TRADES' beta and the warm-up.
    const trades = schema.properties.teacher.allOf.find((c) => c.if.properties.method.const === 'trades')!;
    expect(trades.then.properties.params.properties).toHaveProperty('beta');
    expect(trades.then.properties.params.properties).toHaveProperty('warmupEpochs');
  });
});
