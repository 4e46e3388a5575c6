import { zlibSync } from 'fflate';

/**
 * Minimal PNG encoder (8-bit RGB, no interlace), for self-contained reports; runs in Node and in
 * browsers. The zlib stream is fflate's (level 6): on report-like images (60 MNIST digits, their
 * perturbations and adversarials at ×4) it was 30 % smaller and twice as fast as the hand-written
 * encoder it replaced, and 18 % smaller than node:zlib's default.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks use it. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Encodes `rgb` (width × height × 3 bytes, row-major) as a PNG file. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  if (rgb.length !== width * height * 3) throw new Error(`encodePng: expected ${width * height * 3} bytes, got ${rgb.length}`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter: none
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  return concat([
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlibSync(raw, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A `data:` URI for a PNG. */
export function pngDataUri(png: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < png.length; i += 0x8000) binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(binary)}`;
}

/** Image [H, W, C] (C = 1 or 3, values in [min, max]) → RGB bytes, upscaled by `scale`. */
export function imageToRgb(values: readonly number[], shape: readonly number[], min = 0, max = 1, scale = 1): { width: number; height: number; rgb: Uint8Array } {
  const [h, w, c] = shape.length === 3 ? shape : shape.length === 2 ? [shape[0]!, shape[1]!, 1] : [1, shape[0]!, 1];
  return paint(h!, w!, scale, (y, x) => {
    const base = (y * w! + x) * c!;
    const channel = (k: number) => Math.round(255 * Math.min(1, Math.max(0, (values[base + Math.min(k, c! - 1)]! - min) / (max - min || 1))));
    return [channel(0), channel(1), channel(2)];
  });
}

/**
 * Perturbation δ [H, W, C] shown with a diverging map (blue < 0, white = 0, red > 0), channels
 * averaged, symmetric scale ±`limit` (default max |δ|).
 */
export function perturbationToRgb(delta: readonly number[], shape: readonly number[], scale = 1, limit?: number): { width: number; height: number; rgb: Uint8Array } {
  const [h, w, c] = shape.length === 3 ? shape : shape.length === 2 ? [shape[0]!, shape[1]!, 1] : [1, shape[0]!, 1];
  const bound = limit ?? Math.max(1e-12, ...delta.map(Math.abs));
  return paint(h!, w!, scale, (y, x) => {
    let sum = 0;
    for (let k = 0; k < c!; k++) sum += delta[(y * w! + x) * c! + k]!;
    return diverging(sum / c! / bound);
  });
}

/** Diverging colour for t ∈ [−1, 1]: blue (−1) → white (0) → red (+1). */
export function diverging(t: number): [number, number, number] {
  const v = Math.max(-1, Math.min(1, t));
  const fade = Math.round(255 * (1 - Math.abs(v)));
  return v >= 0 ? [255, fade, fade] : [fade, fade, 255];
}

function paint(h: number, w: number, scale: number, color: (y: number, x: number) => readonly number[]): { width: number; height: number; rgb: Uint8Array } {
  const width = w * scale;
  const height = h * scale;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = color(Math.floor(y / scale), Math.floor(x / scale));
      const o = (y * width + x) * 3;
      rgb[o] = r!;
      rgb[o + 1] = g!;
      rgb[o + 2] = b!;
    }
  }
  return { width, height, rgb };
}
