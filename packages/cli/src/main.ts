import * as tf from '@tensorflow/tfjs';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { BACKEND_PREFERENCES, ConfigError, TemperedError, oneLineError, selectBackend, writeJsonAtomic, type BackendPreference } from '@tempered/core/node';
import { commandHelp, commandSpec, mainHelp, parseCommand, type OptionValues } from './commands.js';
import { newPluginCommand } from './new-plugin.js';
import { configJsonSchema, readConfig } from './config.js';
import { preflight, runContainer } from './run.js';
import { runConfig } from './run-config.js';
import { parseShard } from './plan.js';
import { pluginListing, pluginSchemas, registerBuiltins, registerUserPlugins, teacherFreeMethods } from './plugins.js';
import { benchCommand } from './bench.js';
import { reportCommand } from './report.js';
import { exploreCommand } from './explore/command.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** A container with the built-in plugins and the given outside ones (paths relative to the working directory). */
async function pluginContainer(plugins: readonly string[] | undefined): Promise<DependencyContainer> {
  const container = rootContainer.createChildContainer();
  registerBuiltins(container);
  await registerUserPlugins(container, plugins ?? [], { baseDir: process.cwd() });
  return container;
}

function positiveInteger(field: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(field, `expected an integer ≥ 1, got "${value}"`);
  return n;
}

/** The command that continues a stopped run: the same arguments, with --resume instead of --force. */
function resumeCommand(args: readonly string[], out: string, shard: boolean): string {
  const kept = args.filter((a) => a !== '--force' && a !== '--resume');
  if (!args.includes('--out')) kept.push('--out', out);
  return ['tempered', 'run', ...kept, ...(shard ? [] : ['--resume'])].join(' ');
}

/**
 * `--quiet`: tfjs's own notices (the "looks like you are running TensorFlow.js in Node.js" banner)
 * go too. tfjs prints them unless its PROD flag is set; TEMPERED_QUIET carries the choice to
 * worker processes and evaluation threads, which set the flag themselves.
 */
export function quietTfjs(): void {
  process.env.TEMPERED_QUIET = '1';
  tf.env().set('PROD', true);
}

type Io = { out: (s: string) => void; err: (s: string) => void };
type Handler = (values: OptionValues, positionals: string[], io: Io, args: readonly string[]) => Promise<number> | number;

async function runCommand(values: OptionValues, positionals: string[], io: Io, args: readonly string[]): Promise<number> {
  if (positionals.length !== 1) throw new ConfigError('run', 'expected exactly one config file (YAML or JSON)');
  const configPath = positionals[0]!;
  if (values.backend !== undefined && !BACKEND_PREFERENCES.includes(values.backend as BackendPreference)) {
    throw new ConfigError('--backend', `expected one of ${BACKEND_PREFERENCES.join(', ')}, got "${values.backend}"`);
  }
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new ConfigError('--seed', `expected an integer ≥ 0, got "${values.seed}"`);
  }
  const jobs = values.jobs === undefined ? undefined : positiveInteger('--jobs', values.jobs as string);
  const step = values.step === undefined ? undefined : positiveInteger('--step', values.step as string);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard as string);
  if (step !== undefined && !shard) throw new ConfigError('--step', 'only applies with --shard I/N');
  if (shard && (values.force || jobs !== undefined)) throw new ConfigError('--shard', 'runs its jobs one by one into a shared directory; it takes neither --force nor --jobs');
  const config = readConfig(configPath);
  const out = resolve((values.out as string | undefined) ?? `runs/${config.name}`);
  const quiet = Boolean(values.quiet);
  if (quiet) quietTfjs();
  return await runConfig(config, {
    out,
    resume: Boolean(values.resume),
    force: Boolean(values.force),
    quiet,
    backend: values.backend as BackendPreference | undefined,
    seed,
    baseDir: dirname(resolve(configPath)),
    log: quiet ? () => {} : (line) => io.err(line),
    print: io.out,
    printPlan: Boolean(values.plan),
    jobs,
    shard,
    step,
    resumeCommand: resumeCommand(args, out, Boolean(shard)),
  });
}

async function schemaCommand(values: OptionValues, _positionals: string[], io: Io): Promise<number> {
  const container = await pluginContainer(values.plugin as string[] | undefined);
  const schema = configJsonSchema(pluginSchemas(container), teacherFreeMethods(container));
  if (values.out) writeJsonAtomic(values.out as string, schema);
  else io.out(JSON.stringify(schema, null, 2));
  return 0;
}

async function listCommand(values: OptionValues, _positionals: string[], io: Io): Promise<number> {
  const container = await pluginContainer(values.plugin as string[] | undefined);
  for (const line of pluginListing(container)) io.out(line);
  return 0;
}

/** What each command does with its parsed options; the options and help are in commands.ts. */
const HANDLERS: Record<string, Handler> = {
  run: runCommand,
  bench: (values, _positionals, io) => benchCommand(values as Record<string, string | boolean | undefined>, io),
  report: (values, positionals, io) => {
    if (positionals.length === 0) throw new ConfigError('report', 'expected one or more run directories holding results.json');
    return reportCommand(positionals, values.out as string | undefined, io);
  },
  explore: (values, positionals, io) => {
    if (positionals.length !== 1) throw new ConfigError('explore', 'expected exactly one run directory (the --out of tempered run)');
    return exploreCommand(positionals[0]!, values as Record<string, string | undefined>, io);
  },
  schema: schemaCommand,
  list: listCommand,
  new: (values, positionals, io) => newPluginCommand(positionals, { force: Boolean(values.force), cwd: process.cwd() }, io),
};

/** Runs the CLI; returns the exit code. Errors print as one line, without a stack. */
export async function main(argv: string[], io: Io = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(mainHelp(VERSION));
      return command ? 0 : 1;
    }
    if (command === '--version' || command === '-v') {
      io.out(VERSION);
      return 0;
    }
    const spec = commandSpec(command);
    const { values, positionals } = parseCommand(spec, rest);
    if (values.help) return io.out(commandHelp(spec)), 0;
    return await HANDLERS[spec.name]!(values, positionals, io, rest);
  } catch (error) {
    io.err(`error: ${oneLineError(error)}`);
    // TEMPERED_DEBUG=1 prints the stack, and the stack of the error inside it (a plugin's own, in a training step).
    if (process.env.TEMPERED_DEBUG && error instanceof Error) {
      io.err(error.stack ?? '');
      if (error.cause instanceof Error) io.err(`caused by: ${error.cause.stack ?? error.cause.message}`);
    }
    return error instanceof TemperedError ? error.exitCode || 1 : 1;
  }
}

export { preflight, runContainer, selectBackend };
