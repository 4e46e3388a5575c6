import { readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The layout of a run directory: every file Tempered writes there, and nothing else. `--force`
 * removes exactly these, so a file the user put in the directory (notes, data, another tool's
 * output) is never deleted; a non-empty directory that is not a Tempered run is refused.
 *
 * ```
 * run-state.json  results.json  report.md  report.html  leaderboard.md  leaderboard.html  metrics.jsonl  run.lock
 * models/<name>/model.json, weights.bin          checkpoints/<name>/latest.json, ckpt-<n>.bin
 * evaluations/<name>.json                        jobs/**\/<id>.done, .lock, .diverged.json, .elapsed.json
 * seed-<n>/…   (the same layout, once per seed of a multi-seed run)
 * ```
 * plus the temporary files of atomic writes (`.<file>.<pid>.<n>.tmp`) and of the lock.
 */

const TOP_FILES = new Set(['run-state.json', 'results.json', 'report.md', 'report.html', 'leaderboard.md', 'leaderboard.html', 'metrics.jsonl', 'run.lock']);
/** writeFileAtomic's temporary files, and the lock's (`run.lock.<host>.<pid>.<n>.tmp`, `run.lock.takeover`). */
const TEMPORARY = /^\..+\.\d+\.\d+\.tmp$/;
const LOCK_TEMPORARY = /\.lock(\..+\.\d+\.\d+\.tmp|\.takeover)$/;
const JOB_FILE = /\.(done|lock|diverged\.json|elapsed\.json)$/;

/** True when the file at `parts` (path segments relative to the run directory) is one Tempered writes. */
export function isRunFile(parts: readonly string[]): boolean {
  const rest = /^seed-\d+$/.test(parts[0] ?? '') && parts.length > 1 ? parts.slice(1) : parts;
  const name = rest.at(-1)!;
  if (TEMPORARY.test(name) || LOCK_TEMPORARY.test(name)) return rest.length === 1 || ['models', 'checkpoints', 'evaluations', 'jobs'].includes(rest[0]!);
  if (rest.length === 1) return TOP_FILES.has(name);
  const [top] = rest;
  if (top === 'models') return rest.length === 3 && (name === 'model.json' || name === 'weights.bin');
  if (top === 'checkpoints') return rest.length === 3 && (name === 'latest.json' || /^ckpt-\d+\.bin$/.test(name));
  if (top === 'evaluations') return rest.length === 2 && name.endsWith('.json');
  if (top === 'jobs') return JOB_FILE.test(name);
  return false;
}

/** Every file under `dir` (recursively), as paths relative to it. */
function filesUnder(dir: string, root = dir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path, root));
    else files.push(relative(root, path));
  }
  return files;
}

/** The files under `dir` that Tempered did not write (relative paths, sorted). */
export function foreignFiles(dir: string): string[] {
  return filesUnder(dir).filter((file) => !isRunFile(file.split(sep))).sort();
}

/**
 * Removes the files Tempered wrote under `dir` (all but `keep`), then the directories this left
 * empty. Returns the foreign files that were kept.
 */
export function removeRunFiles(dir: string, keep: ReadonlySet<string> = new Set()): string[] {
  const kept: string[] = [];
  for (const file of filesUnder(dir)) {
    if (keep.has(file)) continue;
    if (isRunFile(file.split(sep))) rmSync(join(dir, file), { force: true });
    else kept.push(file);
  }
  removeEmptyDirectories(dir, dir);
  return kept.sort();
}

function removeEmptyDirectories(dir: string, root: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    removeEmptyDirectories(path, root);
    if (readdirSync(path).length === 0) rmdirSync(path);
  }
}

/** True when `path` exists and is a directory; false when it does not exist; throws the stat error otherwise. */
export function isDirectory(path: string): boolean | undefined {
  try {
    return statSync(path).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
