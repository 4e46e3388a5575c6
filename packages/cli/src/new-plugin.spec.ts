import { mkdtempSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NEW_PLUGIN_KINDS, newPluginCommand } from './new-plugin.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const silent = { out: () => {} };

describe('tempered new', () => {
  it('links every framework dependency to the very copy the CLI runs with, for each kind', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tempered-new-'));
    for (const kind of NEW_PLUGIN_KINDS) {
      expect(newPluginCommand([kind, `my-${kind}`], { force: false, cwd }, silent)).toBe(0);
      const manifest = JSON.parse(readFileSync(join(cwd, `my-${kind}`, 'package.json'), 'utf8')) as {
        name: string; exports: Record<string, { import: string }>; dependencies: Record<string, string>; devDependencies: Record<string, string>;
      };
      expect(manifest.name).toBe(`my-${kind}`);
      expect(manifest.exports['.']!.import).toBe('./dist/index.js');
      const links = { ...manifest.dependencies, ...manifest.devDependencies };
      // One copy: each link is the real path of what the checkout's own node_modules resolves to.
      for (const [name, spec] of Object.entries(links)) {
        expect(spec, name).toMatch(/^file:\//);
        const expected = name === '@tempered/cli' ? join(ROOT, 'packages/cli') : realpathSync(join(ROOT, 'node_modules', name));
        expect(spec.slice('file:'.length), name).toBe(expected);
      }
      expect(Object.keys(manifest.dependencies).sort()).toEqual(
        kind === 'attack' ? ['@tempered/attacks', '@tempered/core', '@tensorflow/tfjs'] : ['@tempered/core', '@tensorflow/tfjs'],
      );
      const files = readdirSync(join(cwd, `my-${kind}`), { recursive: true }).map(String).sort();
      expect(files).toEqual(expect.arrayContaining(['README.md', `my-${kind}.yaml`, 'package.json', `src/my-${kind}.spec.ts`, `src/my-${kind}.ts`, 'src/index.ts', 'tsconfig.json']));
      // The spec imports only public entries: no tsyringe, no reflect-metadata, no relative path into the framework.
      const spec = readFileSync(join(cwd, `my-${kind}`, `src/my-${kind}.spec.ts`), 'utf8');
      const imports = [...spec.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      expect(imports.filter((i) => !i.startsWith('./')).sort()).toEqual(
        expect.arrayContaining(['@tempered/core', '@tempered/core/testing', '@tempered/datasets/testing', 'vitest']),
      );
      expect(imports.every((i) => i.startsWith('./') || ['@tempered/core', '@tempered/core/testing', '@tempered/datasets/testing', '@tensorflow/tfjs', 'vitest'].includes(i)), imports.join()).toBe(true);
    }
  });

  it('refuses an existing folder without --force and writes into it with --force', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tempered-new-'));
    newPluginCommand(['method', 'again'], { force: false, cwd }, silent);
    expect(() => newPluginCommand(['method', 'again'], { force: false, cwd }, silent)).toThrow(/again: already exists; choose another name or pass --force/);
    expect(newPluginCommand(['method', 'again'], { force: true, cwd }, silent)).toBe(0);
  });
});
