import { parseArgs } from 'node:util';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { BACKEND_PREFERENCES, ConfigError, TemperedError, oneLineError, selectBackend, writeJsonAtomic, type BackendPreference } from '@tempered/core/node';
import { configJsonSchema, readConfig } from './config.js';
import { preflight, runContainer } from './run.js';
import { runConfig } from './run-config.js';
import { parseShard } from './plan.js';
import { pluginSchemas, registerBuiltins, registerUserPlugins } from './plugins.js';
import { benchCommand } from './bench.js';
import { reportCommand } from './report.js';
import { exploreCommand } from './explore/command.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HELP: Record<string, string> = {
  main: `tempered ${VERSION}: adversarially robust distillation on TensorFlow.js

Usage: tempered <command> [options]

Commands:
  run <config.yaml|json>   train the teacher and every student, attack them, write reports
  bench                    time training, input gradients, PGD and evaluation workers
  report <dir>...          rebuild report.md/report.html from results.json (several dirs: merge)
  explore <dir>            serve a page that attacks the run's models live in the browser
  schema                   print the config file's JSON Schema (for editors)
  list                     list the registered datasets, models, methods, attacks, losses, metrics

Run 'tempered <command> --help' for a command's options.`,
  run: `Usage: tempered run <config.yaml|json> [options]

Options:
  --out DIR          output directory (default runs/<config name>)
  --resume           continue the run in DIR from its last checkpoint
  --force            overwrite a non-empty DIR
  --backend NAME     auto | wasm | cpu | tensorflow (default: the config's, else auto)
  --seed N           override the config's seed(s) with one seed
  --quiet            print nothing but errors
  --plan             print the plan (jobs, dependencies, what each writes) and exit
  --jobs N           run independent jobs in N worker processes (default: the number of cores)
  --shard I/N        run only shard I of N (0 ≤ I < N): its jobs whose dependencies are done,
                     each under its own lock; exits 75 if some wait for other shards
  --step K           with --shard: only the jobs of plan step K (as --plan numbers them)

Writes DIR/results.json, report.md, report.html, metrics.jsonl, models/<name>/, checkpoints/,
jobs/ (which jobs are done) and run.lock while running. SIGINT/SIGTERM stop after the current
batch with a checkpoint (exit 130/143); a second signal exits at once. See docs/cluster.md.`,
  bench: `Usage: tempered bench [options]

Times the Papernot MNIST CNN at batch 128 (train step with SGD+momentum, forward, input
gradient), one APGD iteration, one FAB-T iteration and one Square query at that batch, PGD-40 L∞
and AutoAttack throughput, and the evaluation speed-up of 2 workers over 1. Figures are
medians from one run; compare ratios, not absolute times, on a shared machine.

Options:
  --backend NAME     wasm | cpu | tensorflow (default wasm)
  --batch N          batch size (default 128)
  --iterations N     timed iterations per figure; the median is taken (default 10)
  --rounds N         rounds; the best median counts, alternating with PyTorch (default 3)
  --torch            also time PyTorch (CPU, 1 thread) when python3 has torch, and print ratios
  --no-winograd      wasm: use the XNNPACK convolution paths instead of Winograd F(2x2,3x3)
  --skip LIST        comma-separated parts to skip: model, attacks, pgd, autoattack, workers
  --zoo LIST         also time an Adam train step (batch 64) of these zoo models: papernot-mnist,
                     papernot-cifar, resnet-small, mobilenet-v2-small (on wasm, against --no-winograd)
  --json             end with one JSON line of all figures`,
  report: `Usage: tempered report <dir>... [--out DIR]

With one directory, rebuilds its report.md and report.html from its results.json. With several,
merges their results (several seeds → mean ± std) into --out (default the first directory).`,
  explore: `Usage: tempered explore <run dir> [options]

Serves, on 127.0.0.1 only, a page with the run's trained models (models/<name>/) and its first
evaluation digits. Pick a digit or draw one, pick FGSM, PGD or C&W and move ε: every model's
prediction, confidence and perturbation are computed live in the page (tfjs on wasm).
Nothing is fetched from outside the run directory and the page's own bundle.

Options:
  --port N           port on 127.0.0.1 (default 8018; 0 picks a free one)
  --digits N         most evaluation digits offered (default 30)`,
  schema: `Usage: tempered schema [--out FILE] [--plugin MODULE]...

Prints (or writes) the JSON Schema of run config files, including every registered plugin's params.
--plugin adds an outside plugin package or file (as a config's plugins: list does) so its names and
params are described too. Names the schema does not know are not rejected: a config may load plugins.`,
  list: `Usage: tempered list [--plugin MODULE]...

Lists every registered plugin by kind; --plugin adds an outside plugin package or file first.`,
};

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


type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

function parse(args: string[], options: OptionSpec): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  } catch (error) {
    throw new ConfigError('arguments', oneLineError(error));
  }
}

/** Runs the CLI; returns the exit code. Errors print as one line, without a stack. */
export async function main(argv: string[], io: { out: (s: string) => void; err: (s: string) => void } = {
  out: (s) => process.stdout.write(s + '\n'),
  err: (s) => process.stderr.write(s + '\n'),
}): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(HELP.main!);
      return command ? 0 : 1;
    }
    if (command === '--version' || command === '-v') {
      io.out(VERSION);
      return 0;
    }
    switch (command) {
      case 'run': {
        const { values, positionals } = parse(rest, {
          out: { type: 'string' },
          resume: { type: 'boolean' },
          force: { type: 'boolean' },
          backend: { type: 'string' },
          seed: { type: 'string' },
          quiet: { type: 'boolean', short: 'q' },
          plan: { type: 'boolean' },
          jobs: { type: 'string' },
          shard: { type: 'string' },
          step: { type: 'string' },
        });
        if (values.help) return io.out(HELP.run!), 0;
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
        const code = await runConfig(config, {
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
          resumeCommand: resumeCommand(rest, out, Boolean(shard)),
        });
        return code;
      }
      case 'bench': {
        const { values } = parse(rest, {
          backend: { type: 'string' },
          batch: { type: 'string' },
          iterations: { type: 'string' },
          rounds: { type: 'string' },
          torch: { type: 'boolean' },
          'no-winograd': { type: 'boolean' },
          zoo: { type: 'string' },
          skip: { type: 'string' },
          json: { type: 'boolean' },
        });
        if (values.help) return io.out(HELP.bench!), 0;
        return await benchCommand(values as Record<string, string | boolean | undefined>, io);
      }
      case 'report': {
        const { values, positionals } = parse(rest, { out: { type: 'string' } });
        if (values.help) return io.out(HELP.report!), 0;
        if (positionals.length === 0) throw new ConfigError('report', 'expected one or more run directories holding results.json');
        return reportCommand(positionals, values.out as string | undefined, io);
      }
      case 'explore': {
        const { values, positionals } = parse(rest, { port: { type: 'string' }, digits: { type: 'string' } });
        if (values.help) return io.out(HELP.explore!), 0;
        if (positionals.length !== 1) throw new ConfigError('explore', 'expected exactly one run directory (the --out of tempered run)');
        return await exploreCommand(positionals[0]!, values as Record<string, string | undefined>, io);
      }
      case 'schema': {
        const { values } = parse(rest, { out: { type: 'string' }, plugin: { type: 'string', multiple: true } });
        if (values.help) return io.out(HELP.schema!), 0;
        const container = await pluginContainer(values.plugin as string[] | undefined);
        const schema = configJsonSchema(pluginSchemas(container));
        if (values.out) writeJsonAtomic(values.out as string, schema);
        else io.out(JSON.stringify(schema, null, 2));
        return 0;
      }
      case 'list': {
        const { values } = parse(rest, { plugin: { type: 'string', multiple: true } });
        if (values.help) return io.out(HELP.list!), 0;
        const container = await pluginContainer(values.plugin as string[] | undefined);
        const schemas = pluginSchemas(container);
        for (const [kind, plugins] of Object.entries(schemas)) io.out(`${kind}: ${Object.keys(plugins).join(', ') || '(none)'}`);
        return 0;
      }
      default:
        throw new ConfigError('command', `unknown command "${command}"; expected run, bench, report, explore, schema or list (tempered --help)`);
    }
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
