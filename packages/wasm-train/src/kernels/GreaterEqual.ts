import { GreaterEqual } from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { binaryKernelConfig } from '../elementwise.js';

/** `GreaterEqual` on wasm SIMD for same-shape or scalar right-hand operands (see `elementwise.ts`); the rest goes to the stock kernel. */
export const greaterEqualConfig: KernelConfig = binaryKernelConfig(GreaterEqual, 'greaterEqual');
