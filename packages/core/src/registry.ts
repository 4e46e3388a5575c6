import type { DependencyContainer, InjectionToken } from 'tsyringe';

/** A class whose instances a container can build. */
export type PluginClass<T> = new (...args: never[]) => T;
import { RegistryError } from './errors.js';
import { PLUGIN_KINDS, TOKENS, type PluginKind } from './tokens.js';
import type { PluginDescriptor } from './types.js';
import type { ParamSpecs } from './params.js';

function kindOf(token: InjectionToken<unknown>): string {
  for (const [kind, t] of Object.entries(PLUGIN_KINDS)) if (t === token) return kind;
  return String(token);
}

/**
 * Every descriptor under `token` in `container` and its ancestors. tsyringe's resolveAll stops at
 * the first container that has the token, so a run's child container would hide the plugins its
 * parent registered; we walk the chain ourselves.
 */
function descriptors<T>(container: DependencyContainer, token: InjectionToken<PluginDescriptor<T>>): PluginDescriptor<T>[] {
  const found: PluginDescriptor<T>[] = [];
  for (let c: DependencyContainer | undefined = container; c; c = (c as unknown as { parent?: DependencyContainer }).parent) {
    if (c.isRegistered(token, false)) found.push(...c.resolveAll(token));
  }
  return found;
}

/** Names registered under `token` in `container` (and its parents), sorted. */
export function listPlugins<T>(container: DependencyContainer, token: InjectionToken<PluginDescriptor<T>>): string[] {
  return descriptors(container, token)
    .map((d) => d.name)
    .sort();
}

/**
 * Registers a plugin by token and name. Registering a name twice under one token throws
 * (torchdistill silently overwrites; we refuse).
 *
 * @example
 * ```ts
 * export function register(container: DependencyContainer): void {
 *   registerPlugin(container, TOKENS.Attack, classPlugin('random-sign', RandomSignNoise, { description: 'Random-sign noise of size ε', params: NOISE_PARAMS }));
 * }
 * ```
 */
export function registerPlugin<T>(
  container: DependencyContainer,
  token: InjectionToken<PluginDescriptor<T>>,
  descriptor: PluginDescriptor<T>,
): void {
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(descriptor.name)) {
    throw new RegistryError(`${kindOf(token)} plugin name "${descriptor.name}": expected letters, digits and dashes`);
  }
  if (listPlugins(container, token).includes(descriptor.name)) {
    throw new RegistryError(`${kindOf(token)} "${descriptor.name}" is already registered`);
  }
  container.register(token, { useValue: descriptor });
}

/** The descriptor registered as `name`; unknown names throw, listing the known ones. */
export function getPlugin<T>(
  container: DependencyContainer,
  token: InjectionToken<PluginDescriptor<T>>,
  name: string,
): PluginDescriptor<T> {
  const known = descriptors(container, token);
  const found = known.find((d) => d.name === name);
  if (!found) {
    const names = known.map((d) => d.name).sort();
    throw new RegistryError(
      `unknown ${kindOf(token)} "${name}"; known: ${names.length ? names.join(', ') : '(none registered)'}`,
    );
  }
  return found;
}

/**
 * Creates the plugin registered as `name` with `params`; an unknown name throws, listing the known ones.
 *
 * @example
 * ```ts
 * const attack = createPlugin(container, TOKENS.Attack, 'pgd', { epsilon: 0.3, steps: 40 });
 * ```
 */
export function createPlugin<T>(
  container: DependencyContainer,
  token: InjectionToken<PluginDescriptor<T>>,
  name: string,
  params?: Record<string, unknown>,
): T {
  return getPlugin(container, token, name).create(params, container);
}

/** Like {@link createPlugin}, with the kind given by name ('attack', 'method', ...). */
export function createPluginOfKind(
  container: DependencyContainer,
  kind: PluginKind,
  name: string,
  params?: Record<string, unknown>,
): unknown {
  return createPlugin(container, PLUGIN_KINDS[kind] as InjectionToken<PluginDescriptor<unknown>>, name, params);
}

/**
 * A descriptor for a class-based plugin resolved through DI: the class is constructed in a
 * child container where {@link TOKENS.PluginParams} holds `params`, so its constructor takes
 * `@inject(TOKENS.PluginParams) params` plus any other injected dependency.
 *
 * @example
 * ```ts
 * registerPlugin(container, TOKENS.Attack, classPlugin('random-sign', RandomSignNoise, { description: 'Random-sign noise', params: NOISE_PARAMS }));
 * ```
 */
export function classPlugin<T>(
  name: string,
  target: PluginClass<T>,
  info: { description?: string; params?: ParamSpecs } = {},
): PluginDescriptor<T> {
  return {
    name,
    ...info,
    create(params, container) {
      const scope = container.createChildContainer();
      scope.register(TOKENS.PluginParams, { useValue: params ?? {} });
      return scope.resolve(target as unknown as new (...args: unknown[]) => T);
    },
  };
}

/**
 * A descriptor from a plain factory function, called with the raw params and the run's container.
 *
 * @example
 * ```ts
 * registerPlugin(container, TOKENS.Loss, factoryPlugin('my-loss', (params) => new MyLoss(params), { params: MY_LOSS_PARAMS }));
 * ```
 */
export function factoryPlugin<T>(
  name: string,
  create: (params: Record<string, unknown>, container: DependencyContainer) => T,
  info: { description?: string; params?: ParamSpecs; normalizeParams?: (raw: Record<string, unknown>) => Record<string, unknown> } = {},
): PluginDescriptor<T> {
  return { name, ...info, create: (params, container) => create(params ?? {}, container) };
}
