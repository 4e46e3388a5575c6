import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, assertBuilt, runCli, tempDir } from './helpers.js';

/**
 * The outside-plugin path a researcher takes, end to end, in a folder outside this repository:
 * `tempered new method NAME`, then in NAME `npm install`, `npm run build`, `npm test`,
 * `tempered list --plugin .` and `tempered run NAME.yaml`. The attack and metric packages are
 * written, installed, type-checked and listed beside it.
 */
const npm = (args: string[], cwd: string) => {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true', npm_config_loglevel: 'error' } });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
};
/** The package's own `tempered`, linked by npm install into node_modules/.bin. */
const tempered = (args: string[], cwd: string) => {
  const r = spawnSync(join(cwd, 'node_modules/.bin/tempered'), args, { cwd, encoding: 'utf8', timeout: 300_000, env: { ...process.env, CI: 'true' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('an outside plugin package from tempered new', () => {
  it('installs, builds, passes its spec, is listed and trains and evaluates in a run, outside the repository', () => {
    assertBuilt();
    const home = tempDir('new-plugin');
    expect(realpathSync(home).startsWith(ROOT)).toBe(false);
    const made = runCli(['new', 'method', 'soft-kd'], { cwd: home });
    expect(made.status, made.stderr).toBe(0);
    const dir = join(home, 'soft-kd');
    for (const file of ['package.json', 'tsconfig.json', 'src/soft-kd.ts', 'src/index.ts', 'src/soft-kd.spec.ts', 'soft-kd.yaml', 'README.md']) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    // A second `new` into the same folder is refused in one line.
    const again = runCli(['new', 'method', 'soft-kd'], { cwd: home });
    expect(again.status).not.toBe(0);
    expect(again.stderr.trim()).toMatch(/^error: .*soft-kd: already exists; choose another name or pass --force to write into it$/);

    const install = npm(['install'], dir);
    expect(install.status, install.output).toBe(0);
    // Linked, not copied: one tfjs and one @tempered/core, the CLI's own.
    for (const name of ['@tensorflow/tfjs', '@tempered/core']) {
      expect(lstatSync(join(dir, 'node_modules', name)).isSymbolicLink(), name).toBe(true);
      expect(realpathSync(join(dir, 'node_modules', name))).toBe(realpathSync(join(ROOT, 'node_modules', name)));
    }
    const build = npm(['run', 'build'], dir);
    expect(build.status, build.output).toBe(0);
    expect(existsSync(join(dir, 'dist/index.js'))).toBe(true);
    const test = npm(['test'], dir);
    expect(test.status, test.output).toBe(0);
    expect(test.output).toMatch(/4 passed/);

    // The attack and metric packages install and type-check against the public API too, and all
    // three load side by side (their specs are of the same kind as the method's).
    for (const [kind, name] of [['attack', 'r-fgsm'], ['metric', 'margin']] as const) {
      expect(runCli(['new', kind, name], { cwd: home }).status).toBe(0);
      for (const step of [['install'], ['run', 'build']]) {
        const r = npm(step, join(home, name));
        expect(r.status, `${name}: npm ${step.join(' ')}\n${r.output}`).toBe(0);
      }
    }
    const list = tempered(['list', '--plugin', '.', '--plugin', '../r-fgsm', '--plugin', '../margin'], dir);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^method\s+soft-kd\s+Soft-label distillation/m);
    expect(list.stdout).toMatch(/^attack\s+r-fgsm\s+R\+FGSM/m);
    expect(list.stdout).toMatch(/^metric\s+margin\s+Mean logit margin/m);

    const run = tempered(['run', 'soft-kd.yaml', '--out', 'runs/soft-kd'], dir);
    expect(run.status, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'runs/soft-kd/results.json'), 'utf8')) as {
      models: Record<string, { method: string; cleanAccuracy: number; attacks: Record<string, unknown> }>;
    };
    const trained = results.models['soft-kd']!;
    expect(trained.method).toBe('soft-kd');
    expect(trained.cleanAccuracy).toBeGreaterThan(0.5); // two epochs on 1,000 digits; chance is 0.1
    expect(Object.keys(trained.attacks).sort()).toEqual(['fgsm', 'pgd']);
  }, 600_000); // about 30 s of CPU (three installs and builds, a spec, a run); far longer on a loaded machine

  it('refuses a bad kind or name in one line, writing nothing', () => {
    const home = tempDir('new-plugin');
    expect(runCli(['new', 'loss', 'x'], { cwd: home }).stderr.trim()).toMatch(/^error: new: expected tempered new <method\|attack\|metric> <name>, got "loss x"$/);
    expect(runCli(['new', 'method', 'My_Method'], { cwd: home }).stderr.trim()).toMatch(/^error: new: expected a name of lowercase letters.*, got "My_Method"$/);
    expect(readdirSync(home)).toEqual([]);
  });
});
