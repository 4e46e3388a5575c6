import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ES module script without type declarations
import { generatedSource } from '../../scripts/generate-simd.mjs';

describe('module.generated.ts', () => {
  it('is what scripts/generate-simd.mjs produces from scripts/simd-wat.mjs', async () => {
    const committed = readFileSync(fileURLToPath(new URL('./module.generated.ts', import.meta.url)), 'utf8');
    expect(committed === (await generatedSource())).toBe(true);
  });
});
