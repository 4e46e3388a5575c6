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
