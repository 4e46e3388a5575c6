import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { TemperedError } from '@tempered/core/node';

/**
 * One writer per run directory (or per job, for shards): a lock file created with O_EXCL that
 * records who holds it. We write this small lock rather than use proper-lockfile because the
 * question a user asks of a lock is "which process, on which host?": proper-lockfile keeps only a
 * directory and an mtime it refreshes on a timer (stale after a timeout), so a slow shared
 * volume or a paused process reads as stale, and a refusal cannot name the holder.
 *
 * Exclusive by construction: the holder's identity is written to a temporary file first, which
 * is then hard-linked to the lock path. link(2) fails when the target exists (atomic on local
 * file systems and on NFSv3+, the shared volumes Slurm and Kubernetes use), so a lock is never
 * visible before its content. An empty or unreadable lock (a crash of an older Tempered between
 * create and write, or a volume still syncing) is held while younger than {@link LOCK_GRACE_MS};
 * taking over a stale lock happens under a second, short-lived takeover lock, so two processes
 * that both judged it stale cannot both remove it.
 */

/** An empty or unreadable lock younger than this is treated as held (its writer may be mid-write). */
export const LOCK_GRACE_MS = 10_000;

/** The run lock's file: one writer per run directory. */
export function runLockPath(out: string): string {
  return join(out, 'run.lock');
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command: string;
}

/** Exit code when a lock is held by another live process (EX_CANTCREAT, sysexits.h). */
export const LOCKED_EXIT = 73;

export class LockHeldError extends TemperedError {
  override readonly exitCode = LOCKED_EXIT;
}

/** The holder recorded in a lock file's text, or undefined when it is empty or unreadable. */
function parseHolder(text: string | undefined): LockHolder | undefined {
  if (text === undefined) return undefined;
  try {
    const holder = JSON.parse(text) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? (holder as LockHolder) : undefined;
  } catch {
    return undefined; // empty, or cut by an older Tempered's crash between create and write
  }
}

export function readLock(path: string): LockHolder | undefined {
  return parseHolder(readRaw(path));
}

/** Age of the file at `path` in ms, or undefined when it is gone. */
function ageMs(path: string): number | undefined {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * True when the holder is known dead: same host, and no process with its pid. An unreadable
 * lock (no holder) is stale only once it is older than the grace period.
 */
export function isStale(holder: LockHolder | undefined, path?: string): boolean {
  if (!holder) {
    if (path === undefined) return true;
    const age = ageMs(path);
    return age === undefined || age > LOCK_GRACE_MS;
  }
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the pid is alive but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : 'an unknown process (the lock file is empty or unreadable)';
}

export interface Lock {
  readonly path: string;
  release(): void;
}

let sequence = 0;

/** Writes `content` to a temporary file beside `path`, then links it into place; false when `path` exists. */
function linkIntoPlace(path: string, content: string): boolean {
  const temp = `${path}.${hostname()}.${process.pid}.${sequence++}.tmp`;
  writeFileSync(temp, content);
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  return linkIntoPlace(path, JSON.stringify(holder));
}

/**
 * Removes the stale lock at `path` if it is still the one judged stale (same bytes), under a
 * takeover lock so that of several processes judging it stale at once only one removes it; the
 * others find a live lock afterwards. A takeover lock left by a crash expires after the grace period.
 */
function removeStale(path: string, judged: string | undefined): void {
  const guard = `${path}.takeover`;
  if (!linkIntoPlace(guard, String(process.pid))) {
    const age = ageMs(guard);
    if (age !== undefined && age > LOCK_GRACE_MS) rmSync(guard, { force: true });
    return;
  }
  try {
    let now: string | undefined;
    try {
      now = readFileSync(path, 'utf8');
    } catch {
      now = undefined;
    }
    if (now === judged) rmSync(path, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

function readRaw(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export interface AcquireOptions {
  /** What is locked, for messages: "run directory runs/x", "job seed-1/ard". */
  readonly what: string;
  /** Take over a lock whose holder is gone (same host, pid dead). */
  readonly takeOverStale: boolean;
  /** Sentence appended to a refusal, e.g. how to take over. */
  readonly hint?: string;
}

/**
 * Takes the lock at `path` or throws LockHeldError naming the holder. A stale lock (holder gone)
 * is taken over when allowed; a lock from another host is never presumed stale.
 */
export function acquireLock(path: string, options: AcquireOptions): Lock {
  mkdirSync(dirname(path), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: process.argv.slice(2).join(' ') };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(path, me)) return handle(path, me);
    const raw = readRaw(path);
    if (raw === undefined) continue; // released meanwhile: try again
    const holder = parseHolder(raw);
    if (holder?.pid === process.pid && holder.host === me.host) return handle(path, me); // re-entrant in one process
    if (!isStale(holder, path)) {
      throw new LockHeldError(`${options.what} is locked by ${describeHolder(holder)} (${path})${options.hint ? `; ${options.hint}` : ''}`);
    }
    if (!options.takeOverStale) {
      throw new LockHeldError(
        `${options.what} is locked by ${describeHolder(holder)}, which is gone (${path}); pass --resume to take it over`,
      );
    }
    removeStale(path, raw);
  }
  throw new LockHeldError(`${options.what}: could not take the lock ${path}; another process keeps taking it`);
}

function handle(path: string, me: LockHolder): Lock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      const now = readLock(path);
      if (now?.pid === me.pid && now.host === me.host) rmSync(path, { force: true });
    },
  };
}

/**
 * The lock at `path` when it is held (by a live process, a process on another host, or, while
 * younger than the grace period, a writer whose identity cannot be read yet), else undefined.
 */
export function liveHolder(path: string): { readonly holder: LockHolder | undefined } | undefined {
  if (!existsSync(path)) return undefined;
  const holder = readLock(path);
  return isStale(holder, path) ? undefined : { holder };
}
