import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/** Cross-package specs drive the built CLI, exactly as a user would (npm test builds first). */
export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const CLI = join(ROOT, 'packages/cli/dist/bin.js');

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it first)`);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `tempered-${prefix}-`));
}

/** examples/smoke/config.yaml with overrides applied (deep-merged at the top level). */
export function smokeConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = parse(readFileSync(join(ROOT, 'examples/smoke/config.yaml'), 'utf8')) as Record<string, unknown>;
  return { ...base, ...overrides };
}

export function writeConfig(dir: string, config: unknown, name = 'config.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof config === 'string' ? config : stringify(config));
  return path;
}

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 600_000,
    env: { ...process.env, CI: 'true', TEMPERED_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the built CLI's `main` in this process, as `bin.js` would, capturing what it writes to
 * stdout and stderr (its io, `process.std*.write` and `console`). For refusals, where a spawned
 * process adds only a second of tfjs loading: specs that care about the real binary's exit code
 * and stream keep a `runCli` too. Process-wide state (backends, handlers) stays in this worker,
 * so only specs that own their process (integration specs) use it.
 */
export async function runCliInProcess(args: string[]): Promise<CliResult> {
  const { main } = (await import('../packages/cli/dist/main.js')) as { main: (argv: string[]) => Promise<number> };
  const stdout: string[] = [];
  const stderr: string[] = [];
  const saved = { out: process.stdout.write, err: process.stderr.write, log: console.log, info: console.info, warn: console.warn, error: console.error };
  const env = { CI: process.env.CI, TEMPERED_DEBUG: process.env.TEMPERED_DEBUG };
  const sink = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true)) as typeof process.stdout.write;
  const line = (into: string[]) => (...parts: unknown[]) => void into.push(`${parts.map(String).join(' ')}\n`);
  process.stdout.write = sink(stdout);
  process.stderr.write = sink(stderr);
  console.log = console.info = line(stdout);
  console.warn = console.error = line(stderr);
  process.env.CI = 'true';
  process.env.TEMPERED_DEBUG = '';
  try {
    const status = await main(args);
    // What a process would still print before exiting (warnings are emitted on the next tick).
    await new Promise((resolve) => setImmediate(resolve));
    return { status, stdout: stdout.join(''), stderr: stderr.join('') };
  } finally {
    Object.assign(process.stdout, { write: saved.out });
    Object.assign(process.stderr, { write: saved.err });
    Object.assign(console, { log: saved.log, info: saved.info, warn: saved.warn, error: saved.error });
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Starts the CLI in the background. */
export function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function readJsonl(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return []; // a line cut by a kill
      }
    });
}
