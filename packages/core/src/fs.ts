/**
 * @tempered/core/fs: atomic file writes and checksums, Node built-ins only (no tfjs). Also
 * exported by `@tempered/core/node`; a package that writes plain files and must not load
 * TensorFlow.js (the results layer's `@tempered/reports/node`) imports them from here.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

let counter = 0;

/**
 * Writes a file atomically: the data goes to a temporary file beside the target, is flushed,
 * then renamed over it. A crash leaves either the old file or the new one, never half of one.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const fd = openSync(temp, 'w');
  try {
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Atomic JSON write with a trailing newline. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

const TEMPORARY = /^\..+\.(\d+)\.\d+\.tmp$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files that {@link writeFileAtomic} left behind when its process was killed
 * mid-write (SIGKILL cannot be caught). Files of live processes are kept. Returns the paths removed.
 */
export function removeStaleTemporaries(dir: string, options: { recursive?: boolean } = {}): string[] {
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive) removed.push(...removeStaleTemporaries(path, options));
      continue;
    }
    const match = TEMPORARY.exec(entry.name);
    if (match && !alive(Number(match[1]))) {
      rmSync(path, { force: true });
      removed.push(path);
    }
  }
  return removed;
}

/** Hex SHA-256 of `bytes`: checkpoint data and saved weights carry it, and are checked against it when read. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
