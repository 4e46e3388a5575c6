import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { TOKENS, listPlugins } from '@tempered/core';
import { SINGLE_COPY_PACKAGES, checkSingleCopies, configJsonSchema, pluginSchemas, registerBuiltins, registerUserPlugins, resolvePluginModule } from '@tempered/cli';
import { ROOT } from './helpers.js';
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

/** A plugin package folder (not under node_modules) with a built entry. */
function pluginFolder(root: string, manifest: Record<string, unknown>, files: Record<string, string>): string {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'tempered-folder-plugin', version: '1.0.0', type: 'module', ...manifest }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('loading an outside plugin package by its folder', () => {
  it("reads the folder's package.json (exports, else main) and says in one line, naming the plugin, what is wrong", async () => {
    const project = tempDir('plugins');
    pluginFolder(join(project, 'iad'), { exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } }, { 'dist/index.js': REGISTER('iad-folder') });
    pluginFolder(join(project, 'mart'), { main: './lib/main.js' }, { 'lib/main.js': REGISTER('mart-folder') });
    const container = rootContainer.createChildContainer();
    await registerUserPlugins(container, ['./iad', `${project}/mart`], { baseDir: project });
    expect(listPlugins(container, TOKENS.Method)).toEqual(['iad-folder', 'mart-folder']);

    pluginFolder(join(project, 'unbuilt'), { exports: { '.': { import: './dist/index.js' } } }, {});
    expect(() => resolvePluginModule('./unbuilt', project)).toThrow(/^plugins: "\.\/unbuilt" is installed but not built: .*unbuilt\/dist\/index\.js is missing/);
    mkdirSync(join(project, 'bare'));
    expect(() => resolvePluginModule('./bare', project)).toThrow(/"\.\/bare" is a folder without package\.json/);
    expect(() => resolvePluginModule('./absent', project)).toThrow(/"\.\/absent" not found: no file or folder/);
    // A folder written like a package name is not looked up as a folder, but the error says how to.
    expect(() => resolvePluginModule('iad', { baseDir: project })).toThrow(/"iad" is not installed: .*; for the package folder .*\/iad, write "\.\/iad"$/);
    // An import failure names the plugin's own file, never the CLI's plugins.js.
    pluginFolder(join(project, 'broken'), { main: './index.js' }, { 'index.js': "import 'tempered-no-such-dependency';\nexport function register() {}\n" });
    const failure = registerUserPlugins(rootContainer.createChildContainer(), ['./broken'], project);
    await expect(failure).rejects.toThrow(/^plugins: "\.\/broken" failed to load: Cannot find package 'tempered-no-such-dependency' imported from .*broken\/index\.js$/);
    await expect(failure).rejects.not.toThrow(/cli\/(dist|src)\/plugins/);
  });

  it('refuses a plugin with its own copy of tfjs, tsyringe or @tempered/core, and takes one linked to the same copy', () => {
    const project = tempDir('plugins');
    const entry = (dir: string) => pathToFileURL(join(dir, 'dist/index.js')).href;
    for (const name of SINGLE_COPY_PACKAGES) {
      const plugin = pluginFolder(join(project, name.replace(/[@/]/g, '_')), { main: './dist/index.js' }, { 'dist/index.js': REGISTER('x') });
      // npm's file: link to the CLI's copy: the same real path, accepted.
      mkdirSync(join(plugin, 'node_modules', name, '..'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(plugin, 'node_modules', name));
      expect(() => checkSingleCopies('./plugin', entry(plugin))).not.toThrow();
      // A copy of its own (what `npm install <name>` in the plugin would make): refused in one line.
      const copy = pluginFolder(join(project, `${name.replace(/[@/]/g, '_')}-copy`), {}, {});
      fakePackage(copy, name, {});
      const own = join(copy, 'node_modules', name);
      expect(() => checkSingleCopies('./plugin', entry(copy))).toThrow(
        new RegExp(`^plugins: "\\./plugin" has its own copy of ${name.replace('/', '\\/')} \\(${own}\\), a second one beside the CLI's .*: depend on it as "${name.replace('/', '\\/')}": "file:[^"]+" .*remove ${own}$`),
      );
    }
  });
});
