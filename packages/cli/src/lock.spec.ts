import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCKED_EXIT, LockHeldError, acquireLock, readLock } from './lock.js';

/** A pid that surely belongs to no process: one that has just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('run lock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tempered-lock-'));

  it('records pid and host, and is released', () => {
    const path = join(dir, 'a.lock');
    const lock = acquireLock(path, { what: 'run a', takeOverStale: false });
    expect(readLock(path)).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a lock held by a live process with one line naming it', () => {
    const path = join(dir, 'b.lock');
    // The parent of this process is alive for as long as the spec runs.
    writeFileSync(path, JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: 'then', command: 'run' }));
    let error: unknown;
    try {
      acquireLock(path, { what: 'run b', takeOverStale: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).exitCode).toBe(LOCKED_EXIT);
    expect((error as Error).message).toMatch(new RegExp(`^run b is locked by pid ${process.ppid} on ${hostname()} since then`));
    expect((error as Error).message).not.toContain('\n');
  });

  it('takes over a lock whose process is gone only when allowed, and never one from another host', () => {
    const path = join(dir, 'c.lock');
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ pid, host: hostname(), startedAt: 'then', command: 'run' }));
    expect(() => acquireLock(path, { what: 'run c', takeOverStale: false })).toThrow(/which is gone .*pass --resume to take it over/);
    const lock = acquireLock(path, { what: 'run c', takeOverStale: true });
    expect(readLock(path)?.pid).toBe(process.pid);
    lock.release();
    writeFileSync(path, JSON.stringify({ pid, host: `${hostname()}-elsewhere`, startedAt: 'then', command: 'run' }));
    expect(() => acquireLock(path, { what: 'run c', takeOverStale: true })).toThrow(/locked by pid \d+ on .*-elsewhere/);
  });
});
