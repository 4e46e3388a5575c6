import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Source } from '@tempered/reports';

const HERE = dirname(fileURLToPath(import.meta.url));
let cached: { value: Source | undefined } | undefined;

/**
 * The git commit of the checkout this Tempered runs from, and whether its tracked files differ
 * from it, so a results file names the exact code that produced it. Undefined when Tempered runs
 * from an installed package (no repository around it) or git is not installed: the version
 * recorded beside it then names the source. Asked of git once per process.
 */
export function sourceOf(dir: string = HERE): Source | undefined {
  if (dir === HERE && cached) return cached.value;
  const git = (...args: string[]): string | undefined => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const commit = git('rev-parse', 'HEAD');
  // `--untracked-files=no`: run directories and scratch configs beside the checkout are not its source.
  const status = commit === undefined ? undefined : git('status', '--porcelain', '--untracked-files=no');
  const value = commit && /^[0-9a-f]{40}$/.test(commit) && status !== undefined ? { commit, modified: status !== '' } : undefined;
  if (dir === HERE) cached = { value };
  return value;
}
