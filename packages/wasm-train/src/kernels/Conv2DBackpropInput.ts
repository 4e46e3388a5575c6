import { backend_util, Conv2DBackpropInput } from '@tensorflow/tfjs';
import type {
  Conv2DBackpropInputAttrs,
  Conv2DBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  assertChannelsLast,
  viewAs,
  heapFloat32,
  makeZeros,
  release,
  runWasmKernel,
  WASM,
  type WasmKernelArgs,
} from '../kernel_utils.js';
import { col2im, matMul, prefersIm2col } from '../im2col.js';
import { transposeMatrix } from '../layout.js';
import { winogradConv2DBackpropInput, winogradKernels } from '../winograd.js';

/** TF's Conv2DBackpropInput has a dilation attribute that tfjs-core does not pass yet; accept it when present. */
export type Conv2DBackpropInputDilatedAttrs = Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };

/**
 * Reorders a `[kh, kw, inC, outC]` filter into the `[kh, kw, outC, inC]` filter, flipped in both spatial
 * axes, that turns the transposed convolution into an ordinary one.
 */
export function flipAndSwapFilter(backend: BackendWasm, filter: TensorInfo): TensorInfo {
  const [kh, kw, inC, outC] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([kh, kw, outC, inC], 'float32');
  const src = heapFloat32(backend, filter);
  const dst = heapFloat32(backend, out);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const srcTap = ((kh - 1 - r) * kw + (kw - 1 - c)) * inC * outC;
      const dstTap = (r * kw + c) * outC * inC;
      for (let i = 0; i < inC; i++) {
        for (let o = 0; o < outC; o++) dst[dstTap + o * inC + i] = src[srcTap + i * outC + o];
      }
    }
  }
  return out;
}

/**
 * Gradient of a 2-D convolution with respect to its input, as an ordinary XNNPACK convolution of `dy`
 * with the flipped, channel-swapped filter. Stride 1 lets XNNPACK pad `dy` itself; other strides (and
 * padding larger than the filter) first spread `dy` into a zero buffer with the transposed padding.
 */
function conv2DBackpropInput(args: WasmKernelArgs<Conv2DBackpropInputInputs, Conv2DBackpropInputDilatedAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape, dilations } = attrs;
  assertChannelsLast(Conv2DBackpropInput, dataFormat);
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  // Transposed padding: the first input row sees dy row 0 through filter tap (effective height - 1 - top).
  const padTop = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const padLeft = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const padBottom = inHeight + info.padInfo.top - (outHeight - 1) * strideHeight - 1;
  const padRight = inWidth + info.padInfo.left - (outWidth - 1) * strideWidth - 1;
  const stride1 = strideHeight === 1 && strideWidth === 1;
  const bandMode = conv2DBackpropInputPath.rowBands;
  if (stride1 && bandMode === 'always' && Math.min(padTop, padLeft, padBottom, padRight) >= 0) {
    return rowBands(backend, dy, filter, info, padTop, padLeft, padRight);
  }
  const winograd = bandMode === 'always' ? null : winogradKernels(backend, info);
  if (winograd !== null) return winogradConv2DBackpropInput(backend, winograd, dy, filter, info);
  if (prefersIm2col(info)) {
    // Patch gradients dy · Wᵀ ([rows, outC] · [outC, kh·kw·inC]), scattered back onto the input.
    const patchSize = info.filterHeight * info.filterWidth * info.inChannels;
    const weightsT = transposeMatrix(backend, filter, patchSize, outChannels);
    const patchGrads = matMul(backend, viewAs(dy, [batchSize * outHeight * outWidth, outChannels]), weightsT);
    const dx = col2im(backend, patchGrads, info);
    release(backend, weightsT, patchGrads);
    return dx;
  }
  const simple = stride1 && Math.min(padTop, padLeft, padBottom, padRight) >= 0;
  // Bands pay when the padded convolution would waste over a quarter of its multiplies: Papernot conv3 and
  // conv4 (44% and 56% waste) went from 22-28 and 31-35 to 19-20 and 26-29 ms; conv2 (17%) went from
  // 55-60 to 59-89 ms (nine convolutions, operator creation and copies), so it keeps one padded convolution.
  const wasteful = inHeight * inWidth > 1.25 * outHeight * outWidth;
  if (simple && bandMode === 'auto' && (padTop > 0 || padBottom > 0) && wasteful) {
    return rowBands(backend, dy, filter, info, padTop, padLeft, padRight);
  }
  const flipped = flipAndSwapFilter(backend, filter);
  const convAttrs = { strides: 1, dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth] };

  if (simple) {
    const pads: backend_util.ExplicitPadding = [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]];
    const dx = runWasmKernel('Conv2D', { x: dy, filter: flipped }, { ...convAttrs, pad: pads }, backend);
    release(backend, flipped);
    return dx;
  }
  const paddedHeight = inHeight + info.effectiveFilterHeight - 1;
  const paddedWidth = inWidth + info.effectiveFilterWidth - 1;
  const spread = makeZeros(backend, [batchSize, paddedHeight, paddedWidth, outChannels]);
  const src = heapFloat32(backend, dy);
  const dst = heapFloat32(backend, spread);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const row = padTop + oh * strideHeight;
      if (row < 0 || row >= paddedHeight) continue;
      for (let ow = 0; ow < outWidth; ow++) {
        const col = padLeft + ow * strideWidth;
        if (col < 0 || col >= paddedWidth) continue;
        const from = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        dst.set(src.subarray(from, from + outChannels), ((b * paddedHeight + row) * paddedWidth + col) * outChannels);
      }
    }
  }
  const dx = runWasmKernel('Conv2D', { x: spread, filter: flipped }, { ...convAttrs, pad: 'valid' }, backend);
  release(backend, flipped, spread);
  return dx;
}

/**
 * Which stride-1 input-gradient formulation runs: `'auto'` (row bands whenever dy is padded above or
 * below), or forced, im2col-sized cases included, so specs reach every path on small shapes.
 */
export const conv2DBackpropInputPath = { rowBands: 'auto' as 'auto' | 'always' | 'never' };

/** A run of consecutive input rows (or columns) that see the same range of flipped-filter taps. */
interface Band {
  /** Input rows `[start, end)`. */
  start: number;
  end: number;
  /** Flipped-filter taps `[first, last)` whose dy row exists for every row of the band. */
  first: number;
  last: number;
  /** dy rows `[dyStart, dyEnd)` those taps read. */
  dyStart: number;
  dyEnd: number;
}

/** Splits `size` input rows into bands; tap r of input row i reads dy row `i + r·dilation - padBefore`. */
function bandsOf(size: number, padBefore: number, taps: number, dilation: number, dySize: number): Band[] {
  const bands: Band[] = [];
  for (let i = 0; i < size; i++) {
    let first = 0;
    while (first < taps && i + first * dilation - padBefore < 0) first++;
    let last = taps;
    while (last > first && i + (last - 1) * dilation - padBefore >= dySize) last--;
    const band = bands[bands.length - 1];
    if (band !== undefined && band.first === first && band.last === last) band.end = i + 1;
    else bands.push({ start: i, end: i + 1, first, last, dyStart: 0, dyEnd: 0 });
  }
  for (const band of bands) {
    band.dyStart = band.start + band.first * dilation - padBefore;
    band.dyEnd = band.end - 1 + (band.last - 1) * dilation - padBefore + 1;
  }
  return bands;
}

/**
 * Stride-1 input gradient without multiplying most of the zeros that the transposed padding puts around
 * dy. Consecutive input rows that see the same range of (flipped) filter rows form a row band; each band
 * is one XNNPACK convolution of just the dy rows it needs with just those filter rows. The interior band,
 * which sees every filter row, is split the same way into column bands; the edge row bands keep dy's
 * horizontal padding, so a 'valid' 3x3 layer takes 4 + 5 convolutions. That saves 28% and 32% of the
 * multiplies on the Papernot conv3 and conv4 (14% on conv2, too little to pay for the extra operators).
 * The pieces are copied into dx (one pass over it).
 */
function rowBands(
  backend: BackendWasm,
  dy: TensorInfo,
  filter: TensorInfo,
  info: backend_util.Conv2DInfo,
  padTop: number,
  padLeft: number,
  padRight: number,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { dilationHeight, dilationWidth } = info;
  const rows = bandsOf(inHeight, padTop, filterHeight, dilationHeight, outHeight);
  const columns = bandsOf(inWidth, padLeft, filterWidth, dilationWidth, outWidth);
  const wholeWidth: Band = { start: 0, end: inWidth, first: 0, last: filterWidth, dyStart: 0, dyEnd: outWidth };
  const regions: Array<{ row: Band; column: Band; padded: boolean }> = [];
  for (const row of rows) {
    if (row.first >= row.last) continue; // rows no dy row reaches keep their zeros
    const splitColumns = row.first === 0 && row.last === filterHeight && columns.length > 1;
    if (!splitColumns) regions.push({ row, column: wholeWidth, padded: true });
    else for (const column of columns) if (column.first < column.last) regions.push({ row, column, padded: false });
  }
  const flipped = flipAndSwapFilter(backend, filter);
  const whole = (r: { row: Band; column: Band }) => r.row.start === 0 && r.row.end === inHeight && r.column.start === 0 && r.column.end === inWidth;
  if (regions.length === 1 && whole(regions[0]!)) {
    const part = convolveRegion(backend, dy, flipped, info, regions[0]!.row, regions[0]!.column, [padLeft, padRight]);
    release(backend, flipped);
    return part;
  }
  const dx = makeZeros(backend, [batchSize, inHeight, inWidth, inChannels]);
  for (const { row, column, padded } of regions) {
    const part = convolveRegion(backend, dy, flipped, info, row, column, padded ? [padLeft, padRight] : [0, 0]);
    const partFloats = (column.end - column.start) * inChannels;
    const from = heapFloat32(backend, part);
    const to = heapFloat32(backend, dx);
    let at = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let r = row.start; r < row.end; r++, at += partFloats) {
        copyFloats(from, at, to, ((b * inHeight + r) * inWidth + column.start) * inChannels, partFloats);
      }
    }
    release(backend, part);
  }
  release(backend, flipped);
  return dx;
}

/** `to[at..] = from[start..]` for `count` floats; a loop for short runs, where `subarray` allocation dominates. */
function copyFloats(from: Float32Array, start: number, to: Float32Array, at: number, count: number): void {
  if (count > 256) {
    to.set(from.subarray(start, start + count), at);
    return;
  }
  for (let i = 0; i < count; i++) to[at + i] = from[start + i]!;
}

/**
 * One piece of {@link rowBands}: the 'valid' (vertically) convolution of dy rows and columns
 * `[dyStart, dyEnd)` with flipped-filter taps `[first, last)` in each axis, copying whichever of dy and the
 * filter is not used whole.
 */
function convolveRegion(
  backend: BackendWasm,
  dy: TensorInfo,
  flipped: TensorInfo,
  info: backend_util.Conv2DInfo,
  row: Band,
  column: Band,
  horizontalPads: [number, number],
): TensorInfo {
  const { batchSize, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const dyRows = row.dyEnd - row.dyStart;
  const dyColumns = column.dyEnd - column.dyStart;
  let regionDy = dy;
  if (dyRows !== outHeight || dyColumns !== outWidth) {
    regionDy = backend.makeOutput([batchSize, dyRows, dyColumns, outChannels], 'float32');
    const from = heapFloat32(backend, dy);
    const to = heapFloat32(backend, regionDy);
    const floats = dyColumns * outChannels;
    let at = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let r = row.dyStart; r < row.dyEnd; r++, at += floats) {
        copyFloats(from, ((b * outHeight + r) * outWidth + column.dyStart) * outChannels, to, at, floats);
      }
    }
  }
  const taps = [row.last - row.first, column.last - column.first];
  let regionFilter = flipped;
  if (taps[0] !== filterHeight || taps[1] !== filterWidth) {
    regionFilter = backend.makeOutput([taps[0]!, taps[1]!, outChannels, inChannels], 'float32');
    const from = heapFloat32(backend, flipped);
    const to = heapFloat32(backend, regionFilter);
    const tapFloats = outChannels * inChannels;
    const floats = taps[1]! * tapFloats;
    for (let r = 0; r < taps[0]!; r++) {
      const start = ((row.first + r) * filterWidth + column.first) * tapFloats;
      to.set(from.subarray(start, start + floats), r * floats);
    }
  }
  const pads: backend_util.ExplicitPadding = [[0, 0], [0, 0], horizontalPads, [0, 0]];
  const part = runWasmKernel(
    'Conv2D',
    { x: regionDy, filter: regionFilter },
    { strides: 1, dataFormat: 'NHWC', dilations: [info.dilationHeight, info.dilationWidth], pad: pads },
    backend,
  );
  if (regionDy !== dy) release(backend, regionDy);
  if (regionFilter !== flipped) release(backend, regionFilter);
  return part;
}

/** Replaces the stock kernel, whose direct loop runs about 10x slower than the forward convolution. */
export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: WASM,
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
