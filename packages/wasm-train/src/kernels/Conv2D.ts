import { backend_util, Conv2D } from '@tensorflow/tfjs';
import type { Conv2DAttrs, Conv2DInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { im2col, matMul, prefersIm2col } from '../im2col.js';
import { forwardConvInfo, originalWasmKernel, release, viewAs, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { winogradConv2D, winogradKernels } from '../winograd.js';

/**
 * Convolution with few input channels per filter patch (`kh·kw·inC ≤ 32`, e.g. a grayscale first layer)
 * as im2col plus one XNNPACK fully-connected product; every other convolution goes to the stock kernel.
 */
function conv2D(args: WasmKernelArgs<Conv2DInputs, Conv2DAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const channelsLast = backend_util.convertConv2DDataFormat(attrs.dataFormat) === 'channelsLast';
  const info = channelsLast ? forwardConvInfo(x, filter, attrs) : undefined;
  const winograd = info !== undefined && x.dtype === 'float32' ? winogradKernels(backend, info) : null;
  if (winograd !== null) return winogradConv2D(backend, winograd, x, filter, info!);
  if (info === undefined || x.dtype !== 'float32' || !prefersIm2col(info)) {
    return originalWasmKernel(Conv2D).kernelFunc(args as never) as TensorInfo;
  }
  const patches = im2col(backend, x, info, false);
  const weights = viewAs(filter, [info.filterHeight * info.filterWidth * info.inChannels, info.outChannels]);
  const y = matMul(backend, patches, weights);
  release(backend, patches);
  return viewAs(y, info.outShape);
}

/** Replaces the stock kernel only where im2col wins; the rest delegates to it. */
export const conv2DConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: WASM,
  kernelFunc: conv2D as unknown as KernelFunc,
};
