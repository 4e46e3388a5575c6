import { parseArgs } from 'node:util';
import { ConfigError, oneLineError } from '@tempered/core/node';

/**
 * Every fact about the `tempered` command line, once: each command's arguments, options (name,
 * type, value placeholder, help line) and prose. The option parser, `tempered --help`, each
 * `tempered <command> --help` and the synopsis block of packages/cli/README.md are all derived
 * from this table, and a spec fails when the README drifts from it.
 */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder for the value in help and synopsis (string options), e.g. `DIR`. */
  readonly value?: string;
  /** What the option does; continuation lines are indented under it in help. */
  readonly help: string;
  /** How the synopsis writes the option, when not `[--name VALUE]`. */
  readonly synopsis?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments as written in usage lines, e.g. `<config.yaml|json>`. */
  readonly args: string;
  /** One line for `tempered --help`. */
  readonly summary: string;
  /** Paragraph(s) before the options in `tempered <command> --help`. */
  readonly description?: string;
  readonly options: readonly OptionSpec[];
  /** Paragraph(s) after the options. */
  readonly footer?: string;
  /** Synopsis lines are wrapped after these options (to keep the README block narrow). */
  readonly synopsisBreakAfter?: readonly string[];
}

const PLUGIN_OPTION: OptionSpec = {
  name: 'plugin',
  type: 'string',
  multiple: true,
  value: 'MODULE',
  help: 'add an outside plugin: a package folder (its package.json is read), a package name or a built .js file; repeatable',
  synopsis: '[--plugin MODULE]...',
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    args: '<config.yaml|json>',
    summary: 'train the teacher and every student, attack them, write reports',
    options: [
      { name: 'out', type: 'string', value: 'DIR', help: 'output directory (default runs/<config name>)' },
      { name: 'resume', type: 'boolean', help: 'continue the run in DIR from its last checkpoint (refused when DIR does\nnot exist, or when a job diverged: change the config and use --force)' },
      { name: 'force', type: 'boolean', help: 'replace the Tempered run in DIR (files Tempered did not write are kept;\na non-empty DIR that is not a run is refused)' },
      { name: 'backend', type: 'string', value: 'NAME', help: "auto | wasm | cpu | tensorflow (default: the config's, else auto)", synopsis: '[--backend auto|wasm|cpu|tensorflow]' },
      { name: 'seed', type: 'string', value: 'N', help: "override the config's seed(s) with one seed" },
      { name: 'quiet', type: 'boolean', short: 'q', help: 'print nothing but errors' },
      { name: 'plan', type: 'boolean', help: 'print the plan (jobs, dependencies, what each writes) and exit' },
      { name: 'jobs', type: 'string', value: 'N', help: 'run independent jobs in N worker processes (default: the number of cores)' },
      {
        name: 'shard',
        type: 'string',
        value: 'I/N',
        help: 'run only shard I of N (0 ≤ I < N): its jobs whose dependencies are done,\neach under its own lock; exits 75 if some wait for other shards',
        synopsis: '[--shard I/N [--step K]]',
      },
      { name: 'step', type: 'string', value: 'K', help: 'with --shard: only the jobs of plan step K (as --plan numbers them;\na K outside the plan is refused)', synopsis: '' },
    ],
    synopsisBreakAfter: ['quiet'],
    footer: `Writes DIR/results.json, report.md, report.html, leaderboard.md, leaderboard.html, metrics.jsonl,
models/<name>/, checkpoints/,
jobs/ (which jobs are done) and run.lock while running. SIGINT/SIGTERM stop after the current
batch with a checkpoint (exit 130/143); a second signal exits at once. See docs/cluster.md.`,
  },
  {
    name: 'bench',
    args: '',
    summary: 'time training, input gradients, PGD and evaluation workers',
    description: `Times the Papernot MNIST CNN at batch 128 (train step with SGD+momentum, forward, input
gradient), one APGD iteration, one FAB-T iteration and one Square query at that batch, PGD-40 L∞
and AutoAttack throughput, and the evaluation speed-up of 2 workers over 1. Figures are
medians from one run; compare ratios, not absolute times, on a shared machine.`,
    options: [
      { name: 'backend', type: 'string', value: 'NAME', help: 'wasm | cpu | tensorflow (default wasm)', synopsis: '[--backend wasm|cpu|tensorflow]' },
      { name: 'batch', type: 'string', value: 'N', help: 'batch size (default 128)' },
      { name: 'iterations', type: 'string', value: 'N', help: 'timed iterations per figure; the median is taken (default 10)' },
      { name: 'rounds', type: 'string', value: 'N', help: 'rounds; the best median counts, alternating with PyTorch (default 3)' },
      { name: 'torch', type: 'boolean', help: 'also time PyTorch (CPU, 1 thread) when python3 has torch, and print ratios' },
      { name: 'no-winograd', type: 'boolean', help: 'wasm: use the XNNPACK convolution paths instead of Winograd F(2x2,3x3)' },
      { name: 'skip', type: 'string', value: 'LIST', help: 'comma-separated parts to skip: model, attacks, pgd, autoattack, workers', synopsis: '[--skip model,attacks,pgd,autoattack,workers]' },
      {
        name: 'zoo',
        type: 'string',
        value: 'LIST',
        help: 'also time an Adam train step (batch 64) of these zoo models: papernot-mnist,\npapernot-cifar, resnet-small, mobilenet-v2-small (on wasm, against --no-winograd)',
      },
      { name: 'json', type: 'boolean', help: 'end with one JSON line of all figures' },
    ],
    synopsisBreakAfter: ['rounds'],
  },
  {
    name: 'report',
    args: '<dir>...',
    summary: 'rebuild the report and leaderboard from results.json (several dirs: merge)',
    description: `With one directory, rebuilds its report.md, report.html, leaderboard.md and leaderboard.html
from its results.json. With several,
merges their results (several seeds → mean ± std) into --out (default the first directory).`,
    options: [{ name: 'out', type: 'string', value: 'DIR', help: 'where merged results and reports go (default the first directory)' }],
  },
  {
    name: 'explore',
    args: '<dir>',
    summary: "serve a page that attacks the run's models live in the browser",
    description: `Serves, on 127.0.0.1 only, a page with the run's trained models (models/<name>/) and its first
evaluation digits. Pick a digit or draw one, pick FGSM, PGD or C&W and move ε: every model's
prediction, confidence and perturbation are computed live in the page (tfjs on wasm).
Nothing is fetched from outside the run directory and the page's own bundle.`,
    options: [
      { name: 'port', type: 'string', value: 'N', help: 'port on 127.0.0.1 (default 8018; 0 picks a free one)' },
      { name: 'digits', type: 'string', value: 'N', help: 'most evaluation digits offered (default 30)' },
    ],
  },
  {
    name: 'schema',
    args: '',
    summary: "print the config file's JSON Schema (for editors)",
    description: `Prints (or writes) the JSON Schema of run config files, including every registered plugin's params.
Names the schema does not know are not rejected: a config may load plugins.`,
    options: [{ name: 'out', type: 'string', value: 'FILE', help: 'write the schema to FILE instead of printing it' }, PLUGIN_OPTION],
  },
  {
    name: 'list',
    args: '',
    summary: 'list the registered plugins: kind, name and description',
    description: 'Lists every registered plugin (datasets, models, methods, attacks, losses, metrics) with its description.',
    options: [PLUGIN_OPTION],
  },
  {
    name: 'new',
    args: '<method|attack|metric> <name>',
    summary: 'write a plugin package (source, spec, example config, README) into ./<name>',
    description: `Writes an outside plugin package into the folder <name> of the working directory: package.json
linked to this Tempered checkout, tsconfig, one plugin file, a spec on the public fixtures, an
example config that trains in seconds and a README. Then, in that folder: npm install, npm run
build, npm test, and tempered run <name>.yaml. See docs/plugins.md.`,
    options: [{ name: 'force', type: 'boolean', help: 'write into <name> even if it exists (files of the same name are replaced)' }],
  },
];

/** The command named `name`, or a one-line refusal listing the commands. */
export function commandSpec(name: string): CommandSpec {
  const spec = COMMANDS.find((c) => c.name === name);
  const names = COMMANDS.map((c) => c.name);
  if (!spec) throw new ConfigError('command', `unknown command "${name}"; expected ${names.slice(0, -1).join(', ')} or ${names.at(-1)} (tempered --help)`);
  return spec;
}

const pad = (s: string, width: number): string => (s.length >= width ? `${s} ` : s.padEnd(width));

/** `tempered <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const usage = `Usage: tempered ${[spec.name, spec.args].filter(Boolean).join(' ')}${spec.options.length ? ' [options]' : ''}`;
  const parts = [usage];
  if (spec.description) parts.push(spec.description);
  if (spec.options.length) {
    const lines = spec.options.flatMap((o) => {
      const flag = `--${o.name}${o.value ? ` ${o.value}` : ''}`;
      const [first, ...more] = o.help.split('\n');
      return [`  ${pad(flag, 17)}  ${first}`, ...more.map((l) => `${' '.repeat(21)}${l}`)];
    });
    parts.push(`Options:\n${lines.join('\n')}`);
  }
  if (spec.footer) parts.push(spec.footer);
  return parts.join('\n\n');
}

/** `tempered --help`. */
export function mainHelp(version: string): string {
  const rows = COMMANDS.map((c) => `  ${pad([c.name, c.args].filter(Boolean).join(' '), 31)} ${c.summary}`);
  return `tempered ${version}: adversarially robust distillation on TensorFlow.js

Usage: tempered <command> [options]

Commands:
${rows.join('\n')}

Run 'tempered <command> --help' for a command's options.`;
}

/** The README's synopsis block: one usage line per command (wrapped where the table says). */
export function synopsis(): string {
  const lines: string[] = [];
  for (const spec of COMMANDS) {
    const head = `tempered ${[spec.name, spec.args].filter(Boolean).join(' ')}`;
    let line = head;
    for (const o of spec.options) {
      const written = o.synopsis ?? `[--${o.name}${o.value ? ` ${o.value}` : ''}]`;
      if (written) line += ` ${written}`;
      if (spec.synopsisBreakAfter?.includes(o.name)) {
        lines.push(line);
        line = ' '.repeat(`tempered ${spec.name}`.length);
      }
    }
    lines.push(line);
  }
  lines.push('tempered <command> --help');
  return lines.join('\n');
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Parses a command's arguments by its table entry; a bad option is one line naming it. */
export function parseCommand(spec: CommandSpec, args: readonly string[]): { values: OptionValues; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const o of spec.options) options[o.name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  try {
    const parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (error) {
    throw new ConfigError('arguments', `${oneLineError(error)} (tempered ${spec.name} --help lists its options)`);
  }
}
