import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOCKED_EXIT, LOCK_GRACE_MS, LockHeldError, acquireLock, liveHolder, readLock } from './lock.js';

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

  it('treats an existing but empty lock as held while it is younger than the grace period, then as stale', () => {
    // The window that let two processes hold one lock: created, not written yet.
    const path = join(dir, 'd.lock');
    writeFileSync(path, '');
    expect(() => acquireLock(path, { what: 'run d', takeOverStale: true })).toThrow(/^run d is locked by an unknown process \(the lock file is empty or unreadable\)/);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(liveHolder(path)).toEqual({ holder: undefined });
    // The same file after the grace period: a writer that crashed, taken over on request.
    const old = (Date.now() - LOCK_GRACE_MS - 5_000) / 1000;
    utimesSync(path, old, old);
    expect(liveHolder(path)).toBeUndefined();
    const lock = acquireLock(path, { what: 'run d', takeOverStale: true });
    expect(readLock(path)?.pid).toBe(process.pid);
    lock.release();
  });

  it('never has two holders: 6 processes racing for 24 rounds each, with stale takeover on', async () => {
    const path = join(dir, 'race.lock');
    const inside = join(dir, 'race.inside');
    // Built output: the spec forks plain node processes that import the compiled lock.
    const lockModule = fileURLToPath(new URL('../dist/lock.js', import.meta.url));
    const script = `
      const { acquireLock, LockHeldError } = await import(${JSON.stringify(lockModule)});
      const { openSync, closeSync, rmSync } = await import('node:fs');
      let held = 0, overlaps = 0;
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      for (let round = 0; round < 24; round++) {
        let lock;
        try { lock = acquireLock(${JSON.stringify(path)}, { what: 'race', takeOverStale: true }); }
        catch (e) { if (!(e instanceof LockHeldError)) throw e; await sleep(Math.random() * 3); continue; }
        held++;
        try { closeSync(openSync(${JSON.stringify(inside)}, 'wx')); } catch { overlaps++; }
        await sleep(1 + Math.random() * 2);
        rmSync(${JSON.stringify(inside)}, { force: true });
        lock.release();
        await sleep(Math.random() * 2);
      }
      process.stdout.write(JSON.stringify({ held, overlaps }));
    `;
    const results = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<{ held: number; overlaps: number }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { held: number; overlaps: number }) : reject(new Error(err))));
      })),
    );
    expect(results.reduce((n, r) => n + r.overlaps, 0)).toBe(0);
    // The race was real: the lock changed hands many times.
    expect(results.reduce((n, r) => n + r.held, 0)).toBeGreaterThan(24);
    expect(existsSync(path)).toBe(false);
  }, 60_000);

  it('lets exactly one of several processes take over one stale lock at the same moment', async () => {
    const path = join(dir, 'stale-race.lock');
    const go = join(dir, 'stale-race.go');
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), startedAt: 'then', command: 'run' }));
    const lockModule = fileURLToPath(new URL('../dist/lock.js', import.meta.url));
    // Every process attempts at the same instant; a winner holds the lock until every process has
    // reported (the parent then creates the go file), so no late starter can find it free.
    const startAt = Date.now() + 2_000;
    const script = `
      const { acquireLock, LockHeldError } = await import(${JSON.stringify(lockModule)});
      const { existsSync } = await import('node:fs');
      while (Date.now() < ${startAt}) {}
      let lock;
      try { lock = acquireLock(${JSON.stringify(path)}, { what: 'stale race', takeOverStale: true }); }
      catch (e) { if (!(e instanceof LockHeldError)) throw e; process.stdout.write('refused'); process.exit(0); }
      process.stdout.write('won');
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10));
      lock.release();
    `;
    const reported: string[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          reported.push(out);
          if (reported.length === 6) writeFileSync(go, '');
        });
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
      })),
    );
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(5);
    expect(existsSync(path)).toBe(false);
  }, 60_000);
});
