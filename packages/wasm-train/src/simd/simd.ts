import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SIMD_MODULE_FMA, SIMD_MODULE_PLAIN } from './module.generated.js';

/**
 * The generated SIMD kernels (`scripts/simd-wat.mjs`), instantiated on the wasm backend's own memory, so
 * every pointer is a byte offset into the heap that holds the tensors. Strides are in bytes.
 */
export interface SimdKernels {
  /** `C = A·B` (acc 0) or `C += A·B` (acc 1); A is M×K, B is K×N, C is M×N, row-major. N % 4 = 0, K ≥ 1. */
  gemm(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, acc: number): void;
  /** As `gemm` with A stored K×M (`C = Aᵀ·B`); M % 4 = 0. */
  gemmTA(a: number, lda: number, b: number, ldb: number, c: number, ldc: number, M: number, N: number, K: number, acc: number): void;
  /** F(2x2,3x3) input transform of images `[n0, n0+count)` into 16 planes `vStride` bytes apart. */
  winoIn(
    x: number, H: number, W: number, cbytes: number, padT: number, padL: number, n0: number, count: number,
    tilesH: number, tilesW: number, zero: number, v: number, vStride: number,
  ): void;
  /**
   * F(2x2,3x3) output transform of 16 planes `mStride` bytes apart into NHWC `y`, plus the per-channel
   * `bias` (0: none), clamped to `[lo, hi]`.
   */
  winoOut(
    m: number, mStride: number, cbytes: number, n0: number, count: number, tilesH: number, tilesW: number,
    y: number, outH: number, outW: number, bias: number, lo: number, hi: number,
  ): void;
  /** The adjoint of `winoOut`: `dy` tiles into 16 planes `dmStride` bytes apart. */
  winoGradOut(
    dy: number, outH: number, outW: number, cbytes: number, n0: number, count: number, tilesH: number,
    tilesW: number, zero: number, dm: number, dmStride: number,
  ): void;
  /**
   * Depthwise window walk (multiplier 1, channels % 4 = 0): `t[tap] += x[in] · dy[out]` over every tap
   * inside the image. `t` is `[kh, kw, C]` and must start zeroed.
   */
  depthwiseFilterGrad(
    x: number, H: number, W: number, cbytes: number, dy: number, outH: number, outW: number, batch: number,
    t: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padT: number, padL: number,
  ): void;
  /** The same walk scattering `dx[in] += w[tap] · dy[out]`; `dx` must start zeroed. */
  depthwiseInputGrad(
    dx: number, H: number, W: number, cbytes: number, dy: number, outH: number, outW: number, batch: number,
    w: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number, padT: number, padL: number,
  ): void;
  /**
   * `out[i] = a[i] op b[i]` (bStep 16) or `a[i] op b[0]` (bStep 0) for float32 a, b and bool out, 16
   * elements a step: the caller finishes the last `n % 16`.
   */
  /** `out[i] = min(max(x[i], lo), hi)` with NaN passed through, 4 elements a step: the caller finishes the last `n % 4`. */
  clamp(x: number, out: number, n: number, lo: number, hi: number): void;
  greaterEqual(a: number, b: number, out: number, n: number, bStep: number): void;
  lessEqual(a: number, b: number, out: number, n: number, bStep: number): void;
  greater(a: number, b: number, out: number, n: number, bStep: number): void;
  less(a: number, b: number, out: number, n: number, bStep: number): void;
  /** The same for bool a, b. */
  logicalAnd(a: number, b: number, out: number, n: number, bStep: number): void;
  /** `out[i] = cond[i] ? a[i] : b[i]` for bool cond and float32 a, b, out, 4 a step; the caller finishes `n % 4`. */
  select(cond: number, a: number, b: number, out: number, n: number): void;
  /** Whether this instance uses `f32x4.relaxed_madd` (fused multiply-add where the CPU has FMA). */
  readonly relaxed: boolean;
}

/**
 * Which SIMD build to use. `'auto'` prefers relaxed SIMD and, on Node versions that ship it behind a flag
 * (Node 20), turns the flag on before compiling; `'plain'` never uses relaxed SIMD. Also settable with the
 * environment variable `TEMPERED_WASM_SIMD=plain`.
 */
export const simdOptions: { build: 'auto' | 'plain' } = {
  build: (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.TEMPERED_WASM_SIMD === 'plain'
    ? 'plain'
    : 'auto',
};

/** The parts of the WebAssembly JS API used here (the lib has no DOM types, and Node's omit them). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: abstract new (...args: never[]) => object;
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const instances = new WeakMap<object, Map<string, SimdKernels | null>>();
const modules = new Map<string, object | null>();

function decodeBase64(text: string): Uint8Array {
  const buffer = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (buffer !== undefined) return new Uint8Array(buffer.from(text, 'base64'));
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Node 20's V8 has relaxed SIMD behind `--experimental-wasm-relaxed-simd`; newer engines ship it. */
function enableRelaxedSimdFlag(): void {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
  v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

function compiled(name: 'fma' | 'plain'): object | null {
  if (!modules.has(name)) {
    const bytes = decodeBase64(name === 'fma' ? SIMD_MODULE_FMA : SIMD_MODULE_PLAIN);
    let module: object | null = null;
    if (name === 'fma' && !wasmApi.validate(bytes)) enableRelaxedSimdFlag();
    if (wasmApi.validate(bytes)) {
      try {
        module = new wasmApi.Module(bytes);
      } catch {
        module = null; // e.g. a browser's main-thread limit on synchronous compilation
      }
    }
    modules.set(name, module);
  }
  return modules.get(name)!;
}

/**
 * The SIMD kernels bound to `backend`'s heap, or `null` when this engine has no wasm SIMD or the backend's
 * memory is not reachable; callers then keep their XNNPACK paths.
 */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: object } }).asm?.memory;
  if (wasmApi === undefined || !(memory instanceof wasmApi.Memory)) return null;
  let byBuild = instances.get(memory);
  if (byBuild === undefined) instances.set(memory, (byBuild = new Map()));
  if (!byBuild.has(simdOptions.build)) {
    let kernels: SimdKernels | null = null;
    for (const name of simdOptions.build === 'plain' ? (['plain'] as const) : (['fma', 'plain'] as const)) {
      const module = compiled(name);
      if (module === null) continue;
      try {
        const exports = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
        kernels = { ...exports, relaxed: name === 'fma' } as SimdKernels;
        break;
      } catch {
        // e.g. a threaded build of the backend, whose shared memory this module does not declare
      }
    }
    byBuild.set(simdOptions.build, kernels);
  }
  return byBuild.get(simdOptions.build)!;
}
