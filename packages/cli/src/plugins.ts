import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { ConfigError, PLUGIN_KINDS, getPlugin, listPlugins, paramsJsonSchema, validateParams, type PluginDescriptor, type PluginKind } from '@tempered/core/node';

type AnyPluginToken = InjectionToken<PluginDescriptor<unknown>>;
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerDatasets } from '@tempered/datasets';
import { register as registerModels } from '@tempered/models';
import { register as registerDefensiveDistillation } from '@tempered/defensive-distillation';
import { register as registerArd } from '@tempered/ard';
import { register as registerCrdnd } from '@tempered/crdnd';
import { register as registerRobustDistillation } from '@tempered/robust-distillation';
import { register as registerReports } from '@tempered/reports/node';

/** Every @tempered plugin package's register, in a stable order. */
export const BUILTIN_REGISTRARS: ReadonlyArray<(container: DependencyContainer) => void> = [
  registerDatasets,
  registerModels,
  registerAttacks,
  registerDefensiveDistillation,
  registerArd,
  registerCrdnd,
  registerRobustDistillation,
  registerReports,
];

/** The module specifiers that give a worker the same plugins (see @tempered/reports workers). */
export const BUILTIN_MODULES = [
  '@tempered/datasets',
  '@tempered/models',
  '@tempered/attacks',
  '@tempered/defensive-distillation',
  '@tempered/ard',
  '@tempered/crdnd',
  '@tempered/robust-distillation',
  '@tempered/reports',
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
function findPackageDir(name: string, from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Resolves a user plugin module to an import URL. A path (`./my-plugin.js`, absolute) is taken relative to
 * the config's folder. A package name is looked up in node_modules from the config's folder and then from
 * the project root, and its entry is read from `exports["."]` with import conditions (`import`, `node`,
 * `default`) or `main`. Each failure is one line: not installed, no entry, or not built yet.
 */
export function resolvePluginModule(specifier: string, search: string | PluginSearch): string {
  const { baseDir, projectRoot } = typeof search === 'string' ? { baseDir: search, projectRoot: process.cwd() } : search;
  if (specifier.startsWith('.') || isAbsolute(specifier)) {
    const path = resolve(baseDir, specifier);
    if (!existsSync(path)) throw new ConfigError('plugins', `"${specifier}" not found: no file ${path}`);
    return pathToFileURL(path).href;
  }
  const [scopeOrName, maybeName, ...subpath] = specifier.split('/');
  const packageName = scopeOrName!.startsWith('@') ? `${scopeOrName}/${maybeName}` : scopeOrName!;
  const rest = (scopeOrName!.startsWith('@') ? subpath : [maybeName, ...subpath]).filter((part): part is string => part !== undefined);
  const roots = [...new Set([baseDir, projectRoot].filter((d): d is string => d !== undefined).map((d) => resolve(d)))];
  const packageDir = roots.map((root) => findPackageDir(packageName, root)).find((d) => d !== undefined);
  if (packageDir === undefined) {
    throw new ConfigError('plugins', `"${specifier}" is not installed: no node_modules/${packageName} from ${roots.join(' or ')} (npm install it, or give a path)`);
  }
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
  const key = rest.length > 0 ? `./${rest.join('/')}` : '.';
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
  return pathToFileURL(file).href;
}

/** Imports user plugin modules and calls their `register(container)`. Returns the import URLs. */
export async function registerUserPlugins(container: DependencyContainer, specifiers: readonly string[], search: string | PluginSearch): Promise<string[]> {
  const urls: string[] = [];
  for (const specifier of specifiers) {
    const url = resolvePluginModule(specifier, search);
    let mod: { register?: (c: DependencyContainer) => void; default?: { register?: (c: DependencyContainer) => void } };
    try {
      mod = (await import(url)) as typeof mod;
    } catch (error) {
      throw new ConfigError('plugins', `"${specifier}" failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    const register = mod.register ?? mod.default?.register;
    if (typeof register !== 'function') throw new ConfigError('plugins', `"${specifier}" exports no register(container) function`);
    register(container);
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
  if (descriptor.params) validateParams(`${field.replace(/\.name$|\.method$/, '')}.params`, descriptor.params, ref.params);
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
