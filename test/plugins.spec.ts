import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { TOKENS, listPlugins } from '@tempered/core';
import { configJsonSchema, pluginSchemas, registerBuiltins, registerUserPlugins, resolvePluginModule } from '@tempered/cli';
import { tempDir } from './helpers.js';

/** A fake outside plugin package under `root/node_modules/name`. */
function fakePackage(root: string, name: string, manifest: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

// A method plugin whose register adds one method named after the package.
const REGISTER = (method: string) => `
export function register(container) {
  container.register(Symbol.for('tempered.Method'), { useValue: { name: '${method}', description: 'outside', create() { throw new Error('not for this spec'); } } });
}`;

describe('loading outside plugins by package name', () => {
  it('says in one line whether a package is not installed, not built, or has no register', async () => {
    const project = tempDir('plugins');
    const configDir = join(project, 'configs');
    mkdirSync(configDir);
    const search = { baseDir: configDir, projectRoot: project };
    expect(() => resolvePluginModule('tempered-absent', search)).toThrow(/"tempered-absent" is not installed: no node_modules\/tempered-absent/);
    fakePackage(project, 'tempered-unbuilt', { exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } });
    expect(() => resolvePluginModule('tempered-unbuilt', search)).toThrow(/installed but not built: .*dist\/index\.js is missing/);
    fakePackage(project, 'tempered-noexport', { exports: { './other': './other.js' } });
    expect(() => resolvePluginModule('tempered-noexport', search)).toThrow(/exports no "\." entry for import/);
    fakePackage(project, 'tempered-noregister', { exports: { '.': { import: './index.js' } } }, { 'index.js': 'export const nothing = 1;\n' });
    await expect(registerUserPlugins(rootContainer.createChildContainer(), ['tempered-noregister'], search)).rejects.toThrow(/exports no register\(container\) function/);
  });

  it('finds a package from the project root with only an import condition, and a scoped one from the config folder', async () => {
    const project = tempDir('plugins');
    const configDir = join(project, 'configs');
    mkdirSync(configDir);
    fakePackage(project, 'tempered-iad', { exports: { '.': { import: './dist/index.js' } } }, { 'dist/index.js': REGISTER('outside-iad') });
    fakePackage(configDir, '@lab/tempered-mart', { main: './lib/main.js' }, { 'lib/main.js': REGISTER('outside-mart') });
    const container = rootContainer.createChildContainer();
    registerBuiltins(container);
    await registerUserPlugins(container, ['tempered-iad', '@lab/tempered-mart'], { baseDir: configDir, projectRoot: project });
    expect(listPlugins(container, TOKENS.Method)).toEqual(expect.arrayContaining(['outside-iad', 'outside-mart', 'ard']));
    // The published schema describes them, and never rejects a method name it does not know.
    const schema = JSON.stringify(configJsonSchema(pluginSchemas(container)));
    expect(schema).toContain('"outside-iad"');
    const bare = configJsonSchema(pluginSchemas(rootContainer.createChildContainer())) as { properties: { students: { items: { properties: { method: Record<string, unknown> } } } } };
    expect(bare.properties.students.items.properties.method.enum).toBeUndefined();
  });
});
