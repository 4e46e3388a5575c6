import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './index.js';

const added = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum'];
const replaced = ['Conv2DBackpropInput', 'Conv2D', 'FusedConv2D', 'BatchMatMul', 'MaxPoolGrad', 'Identity', 'Cast', 'Sum', 'Mean', 'Tile', 'GreaterEqual', 'LessEqual', 'Greater', 'Less', 'LogicalAnd', 'Select'];
// Stock kernels that compute a different result from cpu, found by test/kernel-audit.int.spec.ts.
const corrected = ['Sign', 'Relu', 'Relu6', 'ClipByValue', '_FusedMatMul'];

describe('registerWasmTrainingKernels', () => {
  it('registers on import, and again idempotently, returning the same names', () => {
    const names = registerWasmTrainingKernels();
    expect([...names].sort()).toEqual([...added, ...replaced, ...corrected].sort());
    expect(registerWasmTrainingKernels()).toEqual(names);
    for (const name of names) expect(tf.getKernel(name, 'wasm')).toBeDefined();
  });

  it('keeps the stock setupFunc on replacements and restores the stock kernel on unregister', () => {
    const ours = Object.fromEntries([...replaced, ...corrected].map((name) => [name, tf.getKernel(name, 'wasm')!]));
    unregisterWasmTrainingKernels();
    try {
      for (const name of added) expect(tf.getKernel(name, 'wasm')).toBeUndefined();
      for (const name of [...replaced, ...corrected]) {
        const stock = tf.getKernel(name, 'wasm')!;
        expect(stock.kernelFunc).not.toBe(ours[name]!.kernelFunc);
        expect(ours[name]!.setupFunc).toBe(stock.setupFunc);
      }
      expect(unregisterWasmTrainingKernels()).toEqual([]);
    } finally {
      registerWasmTrainingKernels();
    }
    for (const name of [...replaced, ...corrected]) expect(tf.getKernel(name, 'wasm')!.kernelFunc).toBe(ours[name]!.kernelFunc);
  });
});
