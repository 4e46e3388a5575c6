import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { zlibDeflate } from './deflate.js';

// node:zlib is the oracle: whatever we encode must inflate back to the input.
describe('zlibDeflate', () => {
  it('round-trips arbitrary bytes through node:zlib inflate', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expect(new Uint8Array(inflateSync(zlibDeflate(bytes)))).toEqual(bytes);
      }),
      { numRuns: 60, seed: 18 },
    );
  });

  it('round-trips long runs and far repeats, and compresses an upscaled image', () => {
    const tile = Uint8Array.from({ length: 40_000 }, (_, i) => (Math.floor(i / 12) * 37) % 251);
    const image = new Uint8Array(40_000);
    for (let i = 0; i < image.length; i++) image[i] = i % 336 < 168 ? 0 : tile[i % tile.length]!;
    for (const data of [new Uint8Array(70_000).fill(7), image]) {
      const packed = zlibDeflate(data);
      expect(new Uint8Array(inflateSync(packed))).toEqual(data);
      expect(packed.length).toBeLessThan(data.length / 4);
    }
  });
});
