import { backend_util, DepthwiseConv2dNativeBackpropInput } from '@tensorflow/tfjs';
import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropInputInputs,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { heapFloat32, makeZeros, WASM, type WasmKernelArgs } from '../kernel_utils.js';

/**
 * Gradient of a depthwise convolution with respect to its input: every `dy` pixel scatters
 * `sum_q dy[..., ch * multiplier + q] * w[r, c, ch, q]` back onto the input pixels its window touched.
 * One direct pass over the heap views; handles stride, dilation, channel multiplier and any padding.
 */
function depthwiseConv2dNativeBackpropInput(
  args: WasmKernelArgs<DepthwiseConv2dNativeBackpropInputInputs, DepthwiseConv2dNativeBackpropInputAttrs>,
): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const dx = makeZeros(backend, inputShape);
  const dxs = heapFloat32(backend, dx);
  const dys = heapFloat32(backend, dy);
  const ws = heapFloat32(backend, filter);
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let r = 0; r < filterHeight; r++) {
        const ih = oh * strideHeight + r * dilationHeight - info.padInfo.top;
        if (ih < 0 || ih >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyBase = ((b * outHeight + oh) * outWidth + ow) * outChannels;
          for (let c = 0; c < filterWidth; c++) {
            const iw = ow * strideWidth + c * dilationWidth - info.padInfo.left;
            if (iw < 0 || iw >= inWidth) continue;
            const dxBase = ((b * inHeight + ih) * inWidth + iw) * inChannels;
            const tap = (r * filterWidth + c) * outChannels;
            if (multiplier === 1) {
              for (let ch = 0; ch < inChannels; ch++) dxs[dxBase + ch] += dys[dyBase + ch] * ws[tap + ch];
            } else {
              for (let ch = 0; ch < inChannels; ch++) {
                let sum = 0;
                for (let q = 0; q < multiplier; q++) {
                  const o = ch * multiplier + q;
                  sum += dys[dyBase + o] * ws[tap + o];
                }
                dxs[dxBase + ch] += sum;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** Missing from stock tfjs-backend-wasm 4.22 (depthwise and separable convolutions could not train). */
export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: WASM,
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
