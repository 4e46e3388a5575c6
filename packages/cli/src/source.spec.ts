import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sourceOf } from './source.js';

/** A throwaway repository; git's own answers are the expected values. */
const dir = mkdtempSync(join(tmpdir(), 'tempered-source-'));
const git = (...args: string[]): string => {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sourceOf', () => {
  it('is undefined outside a repository, the commit with modified false in a clean one', () => {
    expect(sourceOf(dir)).toBeUndefined();
    git('init', '-q');
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    git('add', 'a.txt');
    git('commit', '-q', '-m', 'one');
    expect(sourceOf(dir)).toEqual({ commit: git('rev-parse', 'HEAD'), modified: false });
  });

  it('says modified when a tracked file differs from the commit, not for an untracked file', () => {
    writeFileSync(join(dir, 'scratch.yaml'), 'untracked\n');
    expect(sourceOf(dir)?.modified).toBe(false);
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    expect(sourceOf(dir)).toEqual({ commit: git('rev-parse', 'HEAD'), modified: true });
  });
});
