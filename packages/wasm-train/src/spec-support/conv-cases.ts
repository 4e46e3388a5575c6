import { backend_util } from '@tensorflow/tfjs';
import fc from 'fast-check';
import { paddingArb } from './helpers.js';

export type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export interface ConvCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
  seed: number;
}

/**
 * Small random 2-D convolutions: batch 1-2, 3-9 pixels a side, 1-6 input channels (so both the im2col
 * path, kh·kw·inC ≤ 32, and the XNNPACK path are drawn), 1-4 output channels (or channel multiplier
 * for depthwise), 1-3 taps, stride 1-2, dilation 1-2 (never both > 1, as tfjs requires), three paddings.
 */
export function convCaseArb(options: { depthwise?: boolean; dilation?: boolean } = {}): fc.Arbitrary<ConvCase> {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 2 }),
      height: fc.integer({ min: 3, max: 9 }),
      width: fc.integer({ min: 3, max: 9 }),
      inChannels: fc.integer({ min: 1, max: 6 }),
      outChannels: fc.integer({ min: 1, max: options.depthwise ? 2 : 4 }),
      kh: fc.integer({ min: 1, max: 3 }),
      kw: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 2 }),
      dilation: options.dilation === false ? fc.constant(1) : fc.integer({ min: 1, max: 2 }),
      pad: paddingArb,
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    })
    .map((r) => ({
      xShape: [r.batch, r.height, r.width, r.inChannels] as [number, number, number, number],
      filterShape: [r.kh, r.kw, r.inChannels, r.outChannels] as [number, number, number, number],
      strides: [r.stride, r.stride] as [number, number],
      dilations: (r.stride > 1 ? [1, 1] : [r.dilation, r.dilation]) as [number, number],
      pad: r.pad as Padding,
      seed: r.seed,
    }))
    .filter((c) => {
      try {
        const info = backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, c.dilations, c.pad, undefined, options.depthwise);
        return info.outHeight > 0 && info.outWidth > 0;
      } catch {
        return false;
      }
    });
}

export function outShapeOf(c: ConvCase, depthwise = false): [number, number, number, number] {
  return backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, c.dilations, c.pad, undefined, depthwise).outShape;
}
