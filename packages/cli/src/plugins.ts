import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { ConfigError, PLUGIN_KINDS, TOKENS, createPlugin, getPlugin, listPlugins, paramsJsonSchema, validateParams, type PluginDescriptor, type PluginKind } from '@tempered/core/node';

type AnyPluginToken = InjectionToken<PluginDescriptor<unknown>>;
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerDatasets } from '@tempered/datasets';
import { register as registerModels } from '@tempered/models';
import { register as registerBaselines } from '@tempered/baselines';
import { register as registerDefensiveDistillation } from '@tempered/defensive-distillation';
import { register as registerArd } from '@tempered/ard';
import { register as registerCrdnd } from '@tempered/crdnd';
import { register as registerRobustDistillation } from '@tempered/robust-distillation';
import { register as registerEvaluation } from '@tempered/evaluation';

/** Every @tempered plugin package's register, in a stable order. */
export const BUILTIN_REGISTRARS: ReadonlyArray<(container: DependencyContainer) => void> = [
  registerDatasets,
  registerModels,
  registerAttacks,
  registerBaselines,
  registerDefensiveDistillation,
  registerArd,
  registerCrdnd,
  registerRobustDistillation,
  registerEvaluation,
];

/** The module specifiers that give a worker the same plugins (see @tempered/evaluation workers). */
export const BUILTIN_MODULES = [
  '@tempered/datasets',
  '@tempered/models',
  '@tempered/attacks',
  '@tempered/baselines',
  '@tempered/defensive-distillation',
  '@tempered/ard',
  '@tempered/crdnd',
  '@tempered/robust-distillation',
  '@tempered/evaluation',
];

export function registerBuiltins(container: DependencyContainer): void {
  for (const register of BUILTIN_REGISTRARS) register(container);
}

/** Where a package-name plugin was looked for: the config's folder, then the project (working) directory. */
export interface PluginSearch {
  readonly baseDir: string;
  readonly projectRoot?: string;
}

/** The file an `exports` entry points at for `import`, following Node's condition order (import, node, default). */
function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const found = exportTarget(e);
      if (found) return found;
    }
    return undefined;
  }
  if (entry === null || typeof entry !== 'object') return undefined;
  for (const condition of ['import', 'node', 'module', 'default']) {
    const found = exportTarget((entry as Record<string, unknown>)[condition]);
    if (found) return found;
  }
  return undefined;
}

/** The package directory of `name` in a node_modules folder at or above `from`, or undefined. */
export function findPackageDir(name: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The file a package's manifest names for `key` ('.' or './sub'), or a one-line refusal naming the plugin. */
function packageEntry(specifier: string, packageDir: string, key: string): string {
  const manifestPath = join(packageDir, 'package.json');
  let manifest: { name?: string; exports?: unknown; main?: string };
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch (error) {
    throw new ConfigError('plugins', `"${specifier}": ${manifestPath} is not valid JSON (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  }
  const packageName = manifest.name ?? packageDir;
  const exportsMap = manifest.exports;
  const entry =
    exportsMap === undefined
      ? key === '.' ? manifest.main ?? 'index.js' : key
      : typeof exportsMap === 'string' || Array.isArray(exportsMap) || !Object.keys(exportsMap as object).some((k) => k.startsWith('.'))
        ? key === '.' ? exportTarget(exportsMap) : undefined
        : exportTarget((exportsMap as Record<string, unknown>)[key]);
  if (entry === undefined) {
    throw new ConfigError('plugins', `"${specifier}": ${packageName}'s package.json exports no "${key}" entry for import (conditions import, node, default)`);
  }
  const file = resolve(packageDir, entry);
  if (!existsSync(file)) {
    throw new ConfigError('plugins', `"${specifier}" is installed but not built: ${file} is missing (run its build, e.g. npm run build)`);
  }
  return file;
}

/**
 * Resolves a user plugin module to an import URL. A path (`./my-plugin.js`, absolute) is taken relative to
 * the config's folder; a path to a folder is a package, whose `package.json` names the entry. A package
 * name is looked up in node_modules from the config's folder and then from the project root. A package's
 * entry is read from `exports["."]` with import conditions (`import`, `node`, `default`) or `main`. Each
 * failure is one line naming the plugin: not found, not installed, no entry, or not built yet.
 */
export function resolvePluginModule(specifier: string, search: string | PluginSearch): string {
  const { baseDir, projectRoot } = typeof search === 'string' ? { baseDir: search, projectRoot: process.cwd() } : search;
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const path = resolve(baseDir, specifier);
    if (!existsSync(path)) throw new ConfigError('plugins', `"${specifier}" not found: no file or folder ${path}`);
    if (!statSync(path).isDirectory()) return pathToFileURL(path).href;
    if (!existsSync(join(path, 'package.json'))) {
      throw new ConfigError('plugins', `"${specifier}" is a folder without package.json: give a plugin package folder or its built .js file`);
    }
    return pathToFileURL(packageEntry(specifier, path, '.')).href;
  }
  const [scopeOrName, maybeName, ...subpath] = specifier.split('/');
  const packageName = scopeOrName!.startsWith('@') ? `${scopeOrName}/${maybeName}` : scopeOrName!;
  const rest = (scopeOrName!.startsWith('@') ? subpath : [maybeName, ...subpath]).filter((part): part is string => part !== undefined);
  const roots = [...new Set([baseDir, projectRoot].filter((d): d is string => d !== undefined).map((d) => resolve(d)))];
  const packageDir = roots.map((root) => findPackageDir(packageName, root)).find((d) => d !== undefined);
  if (packageDir === undefined) {
    const folder = roots.map((root) => join(root, specifier)).find((d) => existsSync(join(d, 'package.json')));
    const hint = folder ? `; for the package folder ${folder}, write "./${specifier}"` : ' (npm install it, or give a path)';
    throw new ConfigError('plugins', `"${specifier}" is not installed: no node_modules/${packageName} from ${roots.join(' or ')}${hint}`);
  }
  return pathToFileURL(packageEntry(specifier, packageDir, rest.length > 0 ? `./${rest.join('/')}` : '.')).href;
}

/**
 * Packages that must be one copy in a process: a second tfjs has its own Tensor class and
 * kernels, a second tsyringe its own root container, a second @tempered/core its own error
 * classes and trainer. Each is looked up from the plugin's package and from the CLI's.
 */
export const SINGLE_COPY_PACKAGES = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tempered/core', 'tsyringe'] as const;

const CLI_DIR = dirname(fileURLToPath(import.meta.url));

/** The folder of the nearest package.json at or above `file`'s folder. */
function packageRootOf(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Refuses a plugin whose package would load its own copy of tfjs, tsyringe or @tempered/core
 * (compared by real path, so npm's `file:` links to the CLI's copies pass). One line says which
 * package and what to do.
 */
export function checkSingleCopies(specifier: string, url: string, cliDir = CLI_DIR): void {
  const root = packageRootOf(fileURLToPath(url));
  if (root === undefined) return;
  for (const name of SINGLE_COPY_PACKAGES) {
    const theirs = findPackageDir(name, root);
    const ours = findPackageDir(name, cliDir);
    if (theirs === undefined || ours === undefined) continue;
    const [theirReal, ourReal] = [realpathSync(theirs), realpathSync(ours)];
    if (theirReal !== ourReal) {
      throw new ConfigError(
        'plugins',
        `"${specifier}" has its own copy of ${name} (${theirReal}), a second one beside the CLI's (${ourReal}), which breaks DI and tensors: ` +
          `depend on it as "${name}": "file:${ourReal}" (as tempered new writes it), npm install, and remove ${theirs}`,
      );
    }
  }
}

/** Node's "… imported from <this file>" names the CLI, not the plugin: say the plugin instead. */
function pluginLoadError(specifier: string, error: unknown): string {
  const first = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  return first.replace(` imported from ${fileURLToPath(import.meta.url)}`, '').replace(fileURLToPath(import.meta.url), specifier);
}

/** Imports user plugin modules and calls their `register(container)`. Returns the import URLs. */
export async function registerUserPlugins(container: DependencyContainer, specifiers: readonly string[], search: string | PluginSearch): Promise<string[]> {
  const urls: string[] = [];
  for (const specifier of specifiers) {
    const url = resolvePluginModule(specifier, search);
    checkSingleCopies(specifier, url);
    let mod: { register?: (c: DependencyContainer) => void; default?: { register?: (c: DependencyContainer) => void } };
    try {
      mod = (await import(url)) as typeof mod;
    } catch (error) {
      throw new ConfigError('plugins', `"${specifier}" failed to load: ${pluginLoadError(specifier, error)}`);
    }
    const register = mod.register ?? mod.default?.register;
    if (typeof register !== 'function') throw new ConfigError('plugins', `"${specifier}" exports no register(container) function`);
    try {
      register(container);
    } catch (error) {
      throw new ConfigError('plugins', `"${specifier}": its register(container) threw: ${pluginLoadError(specifier, error)}`);
    }
    urls.push(url);
  }
  return urls;
}

/** Validates a plugin reference (name known, params valid) without creating it. */
export function checkPluginRef(container: DependencyContainer, kind: PluginKind, field: string, ref: { name: string; params: Record<string, unknown> }): void {
  let descriptor;
  try {
    descriptor = getPlugin(container, PLUGIN_KINDS[kind] as AnyPluginToken, ref.name);
  } catch (error) {
    throw new ConfigError(field, error instanceof Error ? error.message : String(error));
  }
  const params = descriptor.normalizeParams ? descriptor.normalizeParams(ref.params) : ref.params;
  if (descriptor.params) validateParams(`${field.replace(/\.name$|\.method$/, '')}.params`, descriptor.params, params);
}

/** Params JSON Schema of every registered plugin, by kind and name. */
export function pluginSchemas(container: DependencyContainer): Record<string, Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [kind, t] of Object.entries(PLUGIN_KINDS)) {
    const token = t as AnyPluginToken;
    out[kind] = {};
    for (const n of listPlugins(container, token)) {
      const d = getPlugin(container, token, n);
      out[kind]![n] = d.params ? paramsJsonSchema(d.params) : { type: 'object' };
    }
  }
  return out;
}

/**
 * The methods that can train a teacher: those that need none (`teacher` is not 'required' with
 * their default params). Used so the schema offers only these for `teacher.method`.
 */
export function teacherFreeMethods(container: DependencyContainer): string[] {
  return listPlugins(container, TOKENS.Method).filter((name) => {
    try {
      return createPlugin(container, TOKENS.Method, name, {}).teacher !== 'required';
    } catch {
      return true; // a method that cannot be made without params is not ruled out here; preflight decides
    }
  });
}

/** `tempered list`: one line per plugin, `kind  name  description`, grouped by kind, names sorted. */
export function pluginListing(container: DependencyContainer): string[] {
  const rows: Array<[string, string, string]> = [];
  for (const [kind, t] of Object.entries(PLUGIN_KINDS)) {
    const token = t as AnyPluginToken;
    for (const name of listPlugins(container, token)) rows.push([kind, name, getPlugin(container, token, name).description ?? '']);
  }
  const kindWidth = Math.max(...rows.map(([k]) => k.length)) + 2;
  const nameWidth = Math.max(...rows.map(([, n]) => n.length)) + 2;
  return rows.map(([kind, name, description]) => `${kind.padEnd(kindWidth)}${name.padEnd(nameWidth)}${description}`.trimEnd());
}
