import { backend_util, getKernel } from '@tensorflow/tfjs';
import type { Conv2DAttrs, DataType, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The backend every kernel in this package registers for. */
export const WASM = 'wasm';

/** Arguments a wasm kernel function receives, typed by its inputs and attributes. */
export interface WasmKernelArgs<I, A> {
  inputs: I;
  attrs: A;
  backend: BackendWasm;
}

/**
 * Runs another wasm kernel from inside a kernel, on backend-level `TensorInfo`s,
 * so no engine bookkeeping (tape, tensor tracking) happens for intermediates.
 * The caller owns the result and must `release` it unless it is returned.
 */
export function runWasmKernel(
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: BackendWasm,
): TensorInfo {
  const config = getKernel(kernelName, WASM);
  if (config === undefined) {
    throw new Error(`wasm-train: kernel '${kernelName}' is not registered for the wasm backend`);
  }
  return config.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
}

/** Frees an intermediate `TensorInfo` made by `runWasmKernel` or `makeOutput`. */
export function release(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** A view of a float32 tensor in the wasm heap; take it after the last allocation (the heap may grow). */
export function heapFloat32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** A view of a tensor that shares `info`'s storage under another shape (no copy, no refcount). */
export function viewAs(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

/** A fresh zero-filled output tensor on the wasm heap (`makeOutput` does not clear memory). */
export function makeZeros(backend: BackendWasm, shape: number[], dtype: DataType = 'float32'): TensorInfo {
  const out = backend.makeOutput(shape, dtype);
  backend.typedArrayFromHeap(out).fill(0);
  return out;
}

/** Throws for NCHW: like the stock wasm convolutions, these kernels only handle channels-last. */
export function assertChannelsLast(kernelName: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && backend_util.convertConv2DDataFormat(dataFormat as 'NHWC' | 'NCHW') !== 'channelsLast') {
    throw new Error(`wasm-train: ${kernelName} supports only dataFormat 'NHWC', got '${dataFormat}'`);
  }
}

/** Conv2D / FusedConv2D attributes that shape a forward convolution. */
export type ForwardConvAttrs = Pick<Conv2DAttrs, 'strides' | 'pad' | 'dilations' | 'dimRoundingMode'>;

/** The conv info of a forward channels-last convolution of `x` by `filter` (both rank 4). */
export function forwardConvInfo(x: TensorInfo, filter: TensorInfo, attrs: ForwardConvAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** Stock wasm kernels this package replaced, by name, so replacements can delegate and unregistering can restore. */
export const originalWasmKernels = new Map<string, KernelConfig>();

/** The stock kernel that `kernelName` replaced; throws when nothing was replaced. */
export function originalWasmKernel(kernelName: string): KernelConfig {
  const config = originalWasmKernels.get(kernelName);
  if (config === undefined) throw new Error(`wasm-train: no original wasm kernel recorded for '${kernelName}'`);
  return config;
}

/**
 * A tensor that starts `floatOffset` floats into `info`'s float32 storage, without a copy. The backend's
 * `makeOutput` with an explicit memory offset records memory it does not own; free it with
 * {@link releaseAlias}, never `release` (that would `free` a pointer into the middle of `info`).
 */
export function aliasAt(backend: BackendWasm, info: TensorInfo, floatOffset: number, shape: number[]): TensorInfo {
  const { memoryOffset } = backend.dataIdMap.get(info.dataId)!;
  return backend.makeOutput(shape, 'float32', memoryOffset + 4 * floatOffset);
}

/** Forgets an {@link aliasAt} view (and any XNNPACK operator cached for it) without freeing its memory. */
export function releaseAlias(backend: BackendWasm, alias: TensorInfo): void {
  const data = backend.dataIdMap.get(alias.dataId);
  if (data === undefined) return;
  backend.wasm.tfjs.disposeData(data.id);
  backend.dataIdMap.delete(alias.dataId);
}
