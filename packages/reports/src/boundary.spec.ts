import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The results layer is a pure function of a results file: no tfjs, no attack, nothing of the
// engine (which depends on it, never the reverse). The browser bundle spec checks the main
// entry's bundle; this checks every source file, the Node entry included, and package.json.
const SRC = fileURLToPath(new URL('.', import.meta.url));
const ALLOWED = /^(\.\.?\/|node:|@sinclair\/typebox$|fflate$|@tempered\/core\/(pure|fs)$)/;

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') && !entry.name.includes('.spec.') ? [join(dir, entry.name)] : [],
  );

describe('@tempered/reports depends on no tfjs, attack or engine', () => {
  it('every source file imports only relative files, Node built-ins, TypeBox, fflate and core/pure or core/fs', () => {
    const files = sources(SRC);
    expect(files.map((f) => f.slice(SRC.length))).toEqual(expect.arrayContaining(['schema.ts', 'reports.ts', 'checks/common.ts']));
    const outside = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'/g)]
        .map((m) => m[1] ?? m[2]!)
        .filter((specifier) => !ALLOWED.test(specifier))
        .map((specifier) => `${file.slice(SRC.length)}: ${specifier}`),
    );
    expect(outside).toEqual([]);
  });

  it('package.json lists no tfjs, attacks or evaluation', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).filter((name) => /^@tensorflow\/|^@tempered\/(attacks|evaluation)$/.test(name))).toEqual([]);
  });
});
