import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { TemperedError } from '@tempered/core/node';

/**
 * One writer per run directory (or per job, for shards): a lock file created with O_EXCL that
 * records who holds it. We write this small lock rather than use proper-lockfile because the
 * question a user asks of a lock is "which process, on which host?": proper-lockfile keeps only a
 * directory and an mtime it refreshes on a timer (stale after a timeout), so a slow shared
 * volume or a paused process reads as stale, and a refusal cannot name the holder. O_EXCL create
 * is atomic on local file systems and on NFSv3+, the shared volumes Slurm and Kubernetes use.
 */

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

export function readLock(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined; // missing, or cut by a crash between create and write
  }
}

/** True when the holder is known dead: same host, and no process with its pid. */
export function isStale(holder: LockHolder | undefined): boolean {
  if (!holder) return true;
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
  return holder ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : 'an unknown process';
}

export interface Lock {
  readonly path: string;
  release(): void;
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  return true;
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
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, me)) {
      // A competitor that removed a stale lock at the same moment may have replaced ours.
      const now = readLock(path);
      if (now?.pid === me.pid && now.host === me.host && now.startedAt === me.startedAt) return handle(path, me);
      continue;
    }
    const holder = readLock(path);
    if (holder?.pid === process.pid && holder.host === me.host) return handle(path, me); // re-entrant in one process
    if (!isStale(holder)) {
      throw new LockHeldError(`${options.what} is locked by ${describeHolder(holder)} (${path})${options.hint ? `; ${options.hint}` : ''}`);
    }
    if (!options.takeOverStale) {
      throw new LockHeldError(
        `${options.what} is locked by ${describeHolder(holder)}, which is gone (${path}); pass --resume to take it over`,
      );
    }
    rmSync(path, { force: true });
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

/** A lock held by a live process (or by a process on another host), if any. */
export function liveHolder(path: string): LockHolder | undefined {
  if (!existsSync(path)) return undefined;
  const holder = readLock(path);
  return isStale(holder) ? undefined : holder;
}
