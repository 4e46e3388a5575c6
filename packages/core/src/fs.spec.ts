import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTemporaries, writeFileAtomic, writeJsonAtomic } from './fs.js';

describe('atomic writes', () => {
  it('replaces a file whole and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-fs-'));
    const path = join(dir, 'nested', 'results.json');
    writeJsonAtomic(path, { a: 1 });
    writeJsonAtomic(path, { a: 2, b: [1, 2] });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ a: 2, b: [1, 2] });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['results.json']);
  });

  it('keeps what was there and cleans up when the final rename fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-fs-'));
    const target = join(dir, 'report.md');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'old');
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['report.md']);
  });

  it('sweeps temporaries of dead writers (a SIGKILL mid-write) and keeps those of live ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tempered-fs-'));
    mkdirSync(join(dir, 'sub'));
    // pid 2^22 + 1 is above Linux's pid_max default: never a live process.
    writeFileSync(join(dir, '.latest.json.4194305.0.tmp'), 'half');
    writeFileSync(join(dir, 'sub', '.ckpt-000001.bin.4194305.3.tmp'), 'half');
    writeFileSync(join(dir, `.results.json.${process.pid}.9.tmp`), 'mine, in flight');
    writeFileSync(join(dir, 'notes.tmp'), 'not ours');
    expect(removeStaleTemporaries(dir)).toEqual([join(dir, '.latest.json.4194305.0.tmp')]);
    expect(removeStaleTemporaries(dir, { recursive: true })).toEqual([join(dir, 'sub', '.ckpt-000001.bin.4194305.3.tmp')]);
    expect(readdirSync(dir).sort()).toEqual([`.results.json.${process.pid}.9.tmp`, 'notes.tmp', 'sub']);
  });
});
