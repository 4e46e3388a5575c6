import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './fs.js';

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
});
