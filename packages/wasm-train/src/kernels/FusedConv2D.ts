import { backend_util, FusedConv2D } from '@tensorflow/tfjs';
import type { FusedConv2DAttrs, FusedConv2DInputs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { forwardConvInfo, originalWasmKernel, WASM, type WasmKernelArgs } from '../kernel_utils.js';
import { winogradConv2D, winogradKernels } from '../winograd.js';

/** The fused activations the Winograd output transform applies as a clamp. */
const CLAMPS: Record<string, { lo: number; hi: number }> = {
  linear: { lo: -Infinity, hi: Infinity },
  relu: { lo: 0, hi: Infinity },
  relu6: { lo: 0, hi: 6 },
};

/**
 * Convolution + bias + activation, as tfjs-layers runs it outside gradients (`model.predict`, evaluation,
 * the forward half of an attack step). 3x3 stride-1 convolutions with a `[outC]` bias (or none) and a
 * linear, ReLU or ReLU6 activation take the Winograd path, with the bias and the clamp applied in the
 * output transform; everything else (PReLU, leaky ReLU, ELU, sigmoid, other shapes) goes to the stock kernel.
 */
function fusedConv2D(args: WasmKernelArgs<FusedConv2DInputs, FusedConv2DAttrs>): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x as TensorInfo;
  const filter = inputs.filter as TensorInfo;
  const bias = inputs.bias as TensorInfo | undefined;
  const { dataFormat, activation } = attrs;
  const clamp = CLAMPS[activation ?? 'linear'];
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
  return originalWasmKernel(FusedConv2D).kernelFunc(args as never) as TensorInfo;
}

/** Replaces the stock kernel for the Winograd-eligible cases; the rest delegates to it. */
export const fusedConv2DConfig: KernelConfig = {
  kernelName: FusedConv2D,
  backendName: WASM,
  kernelFunc: fusedConv2D as unknown as KernelFunc,
};
