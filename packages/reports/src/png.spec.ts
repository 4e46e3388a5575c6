import { describe, expect, it } from 'vitest';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { crc32, encodePng } from './png.js';

/** The chunks of a PNG file: type, data, and whether the stored CRC matches. */
function chunks(png: Uint8Array): Array<{ type: string; data: Uint8Array; crcOk: boolean }> {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out = [];
  for (let offset = 8; offset < png.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    out.push({ type, data, crcOk: view.getUint32(offset + 8 + length) === crc32(png.subarray(offset + 4, offset + 8 + length)) });
    offset += 12 + length;
  }
  return out;
}

// node:zlib is the oracle: the IDAT stream must inflate back to the filtered rows.
describe('encodePng', () => {
  it('writes the signature, IHDR, an IDAT that inflates to the rows, IEND, each with a valid CRC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (width, height, seed) => {
        let s = seed;
        const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => ((s = (s * 1103515245 + 12345) >>> 0), i % 7 === 0 ? s >>> 24 : 200));
        const png = encodePng(width, height, rgb);
        expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        const parts = chunks(png);
        expect(parts.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
        expect(parts.every((c) => c.crcOk)).toBe(true);
        const header = new DataView(parts[0]!.data.buffer, parts[0]!.data.byteOffset);
        expect([header.getUint32(0), header.getUint32(4), parts[0]!.data[8], parts[0]!.data[9]]).toEqual([width, height, 8, 2]);
        const rows = new Uint8Array(inflateSync(parts[1]!.data));
        expect(rows.length).toBe(height * (1 + width * 3));
        for (let y = 0; y < height; y++) {
          expect(rows[y * (1 + width * 3)]).toBe(0);
          expect(rows.subarray(y * (1 + width * 3) + 1, (y + 1) * (1 + width * 3))).toEqual(rgb.subarray(y * width * 3, (y + 1) * width * 3));
        }
      }),
      { numRuns: 40, seed: 23 },
    );
  });

  it('compresses an upscaled image well and refuses a wrong byte count', () => {
    const rgb = new Uint8Array(112 * 112 * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(i / 3 / 112 / 4) % 2 === 0 ? 0 : 255;
    expect(encodePng(112, 112, rgb).length).toBeLessThan(rgb.length / 20);
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/expected 12 bytes, got 11/);
  });
});
