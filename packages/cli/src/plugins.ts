import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { ConfigError, PLUGIN_KINDS, getPlugin, listPlugins, paramsJsonSchema, validateParams, type PluginDescriptor, type PluginKind } from '@tempered/core';

type AnyPluginToken = InjectionToken<PluginDescriptor<unknown>>;
import { register as registerAttacks } from '@tempered/attacks';
import { register as registerDatasets } from '@tempered/datasets';
import { register as registerModels } from '@tempered/models';
import { register as registerDefensiveDistillation } from '@tempered/defensive-distillation';
import { register as registerArd } from '@tempered/ard';
import { register as registerCrdnd } from '@tempered/crdnd';
import { register as registerReports } from '@tempered/reports';

/** Every @tempered plugin package's register, in a stable order. */
export const BUILTIN_REGISTRARS: ReadonlyArray<(container: DependencyContainer) => void> = [
  registerDatasets,
  registerModels,
  registerAttacks,
  registerDefensiveDistillation,
  registerArd,
  registerCrdnd,
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
  '@tempered/reports',
];

export function registerBuiltins(container: DependencyContainer): void {
  for (const register of BUILTIN_REGISTRARS) register(container);
}

/** Resolves a user plugin module (a package name or a path relative to `baseDir`) to an import URL. */
export function resolvePluginModule(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolve(baseDir, specifier)).href;
  try {
    return pathToFileURL(createRequire(resolve(baseDir, 'package.json')).resolve(specifier)).href;
  } catch {
    throw new ConfigError('plugins', `cannot find module "${specifier}" from ${baseDir}; install it or give a path`);
  }
}

/** Imports user plugin modules and calls their `register(container)`. Returns the import URLs. */
export async function registerUserPlugins(container: DependencyContainer, specifiers: readonly string[], baseDir: string): Promise<string[]> {
  const urls: string[] = [];
  for (const specifier of specifiers) {
    const url = resolvePluginModule(specifier, baseDir);
    let mod: { register?: (c: DependencyContainer) => void };
    try {
      mod = (await import(url)) as typeof mod;
    } catch (error) {
      throw new ConfigError('plugins', `"${specifier}" failed to load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    if (typeof mod.register !== 'function') throw new ConfigError('plugins', `"${specifier}" exports no register(container) function`);
    mod.register(container);
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
