import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@tempered/core/node';
import { pluginTemplate, type PluginTemplateKind, type TemplateLinks } from './plugin-templates.js';
import { findPackageDir } from './plugins.js';

/** The kinds `tempered new` writes. */
export const NEW_PLUGIN_KINDS: readonly PluginTemplateKind[] = ['method', 'attack', 'metric'];

const CLI_PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The real folder of `name` as the CLI itself resolves it (walking node_modules up from the CLI), or undefined. */
function installedDir(name: string): string | undefined {
  const dir = findPackageDir(name, CLI_PACKAGE_DIR);
  return dir === undefined ? undefined : realpathSync(dir);
}

/** Where a dependency comes from when the CLI has no copy to link (e.g. once it is installed from npm). */
const REGISTRY_RANGES: Record<string, string> = { typescript: '~6.0.2', vitest: '^4.0.0' };

/**
 * The dependency specifiers the new package uses: `file:` links to the very copies this CLI runs
 * with, so npm installs nothing from the registry and the plugin, the CLI and the specs share one
 * tfjs, one tsyringe and one @tempered/core (npm symlinks a `file:` folder; Node, TypeScript and
 * Vite follow the link to its real path).
 */
export function checkoutLinks(): TemplateLinks {
  const version = (JSON.parse(readFileSync(join(CLI_PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  const link = (name: string): string => {
    const dir = name === '@tempered/cli' ? realpathSync(CLI_PACKAGE_DIR) : installedDir(name);
    if (dir !== undefined) return `file:${dir}`;
    return REGISTRY_RANGES[name] ?? (name.startsWith('@tempered/') ? version : '*');
  };
  return {
    core: link('@tempered/core'),
    attacks: link('@tempered/attacks'),
    datasets: link('@tempered/datasets'),
    cli: link('@tempered/cli'),
    tfjs: link('@tensorflow/tfjs'),
    typescript: link('typescript'),
    vitest: link('vitest'),
  };
}

/**
 * `tempered new <method|attack|metric> <name>`: writes a plugin package into `<cwd>/<name>`. Refuses
 * a bad kind or name, and an existing folder unless `force`. Prints what to run next.
 */
export function newPluginCommand(positionals: readonly string[], options: { force: boolean; cwd: string }, io: { out: (s: string) => void }): number {
  const [kind, name, ...extra] = positionals;
  if (kind === undefined || !NEW_PLUGIN_KINDS.includes(kind as PluginTemplateKind) || extra.length > 0) {
    throw new ConfigError('new', `expected tempered new <${NEW_PLUGIN_KINDS.join('|')}> <name>${kind ? `, got "${positionals.join(' ')}"` : ''}`);
  }
  if (name === undefined || !/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ConfigError('new', `expected a name of lowercase letters, digits and dashes, starting with a letter (it is the plugin's and the npm package's name)${name ? `, got "${name}"` : ''}`);
  }
  const dir = resolve(options.cwd, name);
  if (existsSync(dir) && !options.force) throw new ConfigError(dir, 'already exists; choose another name or pass --force to write into it');
  const files = pluginTemplate(kind as PluginTemplateKind, name, checkoutLinks());
  for (const [path, text] of Object.entries(files)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  io.out(`wrote ${kind} plugin package ${dir}: ${Object.keys(files).join(', ')}`);
  io.out(`next: cd ${name} && npm install && npm run build && npm test && npx tempered run ${name}.yaml`);
  return 0;
}
