import { backend_util, FusedConv2D } from '@tensorflow/tfjs';
import type { FusedConv2DAttrs, FusedConv2DInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { forwardConvInfo, originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { activationClamp, clampInto } from '../clamp.js';
import { winogradConv2D, winogradKernels } from '../winograd.js';

/**
 * Convolution + bias + activation, as tfjs-layers runs it outside gradients (`model.predict`, evaluation,
 * the forward half of an attack step). 3x3 stride-1 convolutions with a `[outC]` bias (or none) and a
 * linear, ReLU or ReLU6 activation take the Winograd path, with the bias and the clamp applied in the
 * output transform. Other shapes go to the stock kernel, with a ReLU or ReLU6 applied afterwards by
 * `clampInto` (the stock XNNPACK clamp turns NaN into 0); PReLU, leaky ReLU, ELU and sigmoid go to it unchanged.
 */
function fusedConv2D(args: WasmKernelArgs<FusedConv2DInputs, FusedConv2DAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const bias = inputs.bias as TensorInfo | undefined;
  const { dataFormat, activation } = attrs;
  const clamp = activationClamp(activation);
  const eligible =
    clamp !== undefined &&
    inputs.preluActivationWeights == null &&
    x.dtype === 'float32' &&
    backend_util.convertConv2DDataFormat(dataFormat) === 'channelsLast' &&
    (bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === filter.shape[3]));
  if (eligible) {
    const info = forwardConvInfo(x, filter, attrs);
    const winograd = winogradKernels(backend, info);
    if (winograd !== null) return winogradConv2D(backend, winograd, x, filter, info, { bias: bias ?? undefined, ...clamp });
  }
  if (clamp === undefined || activation === 'linear' || activation === undefined) {
    return originalWasmKernel(FusedConv2D).kernelFunc(args as never) as TensorInfo;
  }
  // The stock fused clamp turns NaN into 0: convolve linearly, then clamp with NaN passed through (cpu's rule).
  const out = originalWasmKernel(FusedConv2D).kernelFunc({ ...args, attrs: { ...attrs, activation: 'linear' } } as never) as TensorInfo;
  clampInto(backend, out, out, clamp.lo, clamp.hi);
  return out;
}

/** Replaces the stock kernel for the Winograd-eligible cases; the rest delegates to it. */
export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: WASM,
  kernelFunc: fusedConv2D as unknown as KernelFunc,
};
