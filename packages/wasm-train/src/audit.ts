import * as tf from '@tensorflow/tfjs';
import type { DataType, NamedAttrMap, NamedTensorMap } from '@tensorflow/tfjs';

/**
 * A differential audit of kernels: record every kernel a workload dispatches (with its attributes and
 * inputs), then replay each recorded call on two backends, forward and through its registered gradient,
 * on the recorded values, on random values and on edge values, and report where they disagree.
 *
 * The kernel list is never kept by hand: whatever a workload runs is what gets audited, so a new model,
 * loss or attack that brings a new kernel is covered by running it.
 */

/** One recorded input of a kernel call. */
export interface RecordedInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DataType;
  readonly values: Float32Array | Int32Array | Uint8Array;
}

/** One distinct kernel invocation: name, attributes and the inputs it first ran with. */
export interface KernelCall {
  readonly kernelName: string;
  readonly attrs: NamedAttrMap;
  readonly inputs: readonly RecordedInput[];
  /** Name, attributes and input dtypes/ranks: calls that differ only in values share one signature. */
  readonly signature: string;
}

export interface RecordOptions {
  /** Distinct signatures kept per kernel name (default 4). */
  readonly maxPerKernel?: number;
  /** Calls whose inputs hold more elements than this are recorded only if no smaller one exists (default 20,000). */
  readonly maxElements?: number;
}

export interface Recording {
  readonly calls: KernelCall[];
  /** Kernel names tfjs's profiler saw (a cross-check that recording missed nothing). */
  readonly profiledKernels: string[];
}

function attrsKey(attrs: NamedAttrMap | undefined): string {
  return JSON.stringify(attrs ?? {}, (_key, value: unknown) =>
    ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<number>) : value,
  );
}

/**
 * Observes every `engine.runKernel` call while it is recording, and keeps the distinct kernel calls (smallest
 * inputs preferred) together with the kernel names tfjs's profiler saw. Run work through {@link run} in
 * units (one training step, one attack): the profiler keeps a record per kernel launch.
 *
 * @example
 * ```ts
 * const recorder = new KernelRecorder();
 * await recorder.run(() => { optimizeStep(...); });
 * await recorder.run(() => pgd(model, x, y));
 * const { calls, profiledKernels } = recorder.recording();
 * ```
 */
export class KernelRecorder {
  private readonly maxPerKernel: number;
  private readonly maxElements: number;
  private readonly bySignature = new Map<string, KernelCall & { elements: number }>();
  private readonly perKernel = new Map<string, number>();
  private readonly profiled = new Set<string>();

  constructor(options: RecordOptions = {}) {
    this.maxPerKernel = options.maxPerKernel ?? 4;
    this.maxElements = options.maxElements ?? 20_000;
  }

  /** Runs `work` with the profiler on and every kernel call observed. */
  async run(work: () => Promise<unknown> | unknown): Promise<void> {
    const engine = tf.engine() as unknown as { runKernel: (name: string, inputs: NamedTensorMap, attrs: NamedAttrMap) => unknown };
    const original = engine.runKernel;
    const observe = (kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap) => this.observe(kernelName, inputs, attrs);
    engine.runKernel = function (this: unknown, kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap) {
      observe(kernelName, inputs, attrs);
      return original.call(this, kernelName, inputs, attrs);
    };
    try {
      const info = await tf.profile(async () => {
        await work();
        return [];
      });
      // The profiler also lists custom-gradient scopes (e.g. 'fusedConv2d__op'); their kernels are recorded inside.
      for (const name of info.kernelNames) if (tf.getKernel(name, tf.getBackend()) !== undefined) this.profiled.add(name);
    } finally {
      engine.runKernel = original;
    }
  }

  /** The distinct calls seen so far, sorted by signature, and the profiled kernel names. */
  recording(): Recording {
    const calls = [...this.bySignature.values()].map(({ elements: _elements, ...call }) => call);
    calls.sort((a, b) => a.signature.localeCompare(b.signature));
    return { calls, profiledKernels: [...this.profiled].sort() };
  }

  private observe(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap): void {
    const entries = Object.entries(inputs ?? {}).filter(([, t]) => t != null);
    const signature = `${kernelName} ${attrsKey(attrs)} ${entries.map(([n, t]) => `${n}:${t.dtype}/${t.rank}`).join(',')}`;
    const elements = entries.reduce((sum, [, t]) => sum + t.size, 0);
    const known = this.bySignature.get(signature);
    const count = this.perKernel.get(kernelName) ?? 0;
    const wanted = known === undefined ? count < this.maxPerKernel : known.elements > this.maxElements && elements < known.elements;
    if (!wanted || entries.some(([, t]) => t.dtype === 'string' || t.dtype === 'complex64')) return;
    const recorded: RecordedInput[] = entries.map(([name, t]) => ({
      name,
      shape: [...t.shape],
      dtype: t.dtype,
      values: (t.dataSync() as Float32Array | Int32Array | Uint8Array).slice(),
    }));
    if (known === undefined) this.perKernel.set(kernelName, count + 1);
    this.bySignature.set(signature, { kernelName, attrs: structuredClone(attrs ?? {}), inputs: recorded, signature, elements });
  }
}

/** The edge values every float input is filled with (with random signs), one variant each. */
export const EDGE_VALUES: ReadonlyArray<{ readonly label: string; readonly value: number }> = [
  { label: '±0', value: 0 },
  { label: '±1e-40 (denormal)', value: 1e-40 },
  { label: '±1e-30', value: 1e-30 },
  { label: '±1e-7', value: 1e-7 },
  { label: '±1e30', value: 1e30 },
  { label: '±Inf', value: Infinity },
  { label: 'NaN', value: Number.NaN },
];

/** How one variant fills a float32 input of `size` elements (int32 and bool inputs keep their recorded values). */
export interface Variant {
  readonly label: string;
  fill(recorded: Float32Array, seed: number): Float32Array;
}

function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** The variants of the audit: recorded values, random normals, integer ties, then each edge value. */
export function auditVariants(): Variant[] {
  const variants: Variant[] = [
    { label: 'recorded', fill: (recorded) => recorded },
    {
      label: 'random',
      fill: (recorded, seed) => {
        const next = xorshift(seed);
        return Float32Array.from(recorded, () => (next() + next() + next() - 1.5) * 2);
      },
    },
    {
      // Small integers repeat often: ties for Max, ArgMax, MaxPool and their gradients.
      label: 'ties',
      fill: (recorded, seed) => {
        const next = xorshift(seed);
        return Float32Array.from(recorded, () => Math.floor(next() * 3));
      },
    },
  ];
  for (const { label, value } of EDGE_VALUES) {
    variants.push({
      label,
      fill: (recorded, seed) => {
        const next = xorshift(seed);
        return Float32Array.from(recorded, () => (next() < 0.5 ? -value : value));
      },
    });
  }
  return variants;
}

/** Kernels whose result is exactly determined by IEEE float32 semantics: wasm must equal cpu bit for bit (±0 aside). */
export const EXACT_KERNELS: ReadonlySet<string> = new Set([
  'Abs', 'Add', 'ArgMax', 'ArgMin', 'Cast', 'ClipByValue', 'Concat', 'Equal', 'Fill', 'Floor', 'GatherV2',
  'Greater', 'GreaterEqual', 'Identity', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalNot', 'LogicalOr', 'Max',
  'MaxPool', 'Maximum', 'Min', 'Minimum', 'Multiply', 'Neg', 'NotEqual', 'OneHot', 'OnesLike', 'Pack', 'Pad',
  'PadV2', 'RealDiv', 'Relu', 'Relu6', 'Reshape', 'Round', 'Select', 'Sign', 'Slice', 'Sqrt', 'Square',
  'StridedSlice', 'Step', 'Sub', 'Tile', 'Transpose', 'Unpack', 'ZerosLike', 'Reverse', 'Ceil',
]);

/** Relative tolerance of every other kernel, against the larger of |value| and the output's RMS. */
export const RELATIVE_TOLERANCE = 1e-4;

/**
 * Below the smallest normal float32 (2^-126 ≈ 1.2e-38) a float32 result keeps fewer significant bits, so
 * float32 sums and products of denormals (wasm) and float64 ones rounded once (cpu) differ relatively
 * more: differences under 1e-3 of it are agreement. Exact kernels get no such allowance.
 */
export const DENORMAL_TOLERANCE = 2 ** -126 * 1e-3;

/** One disagreement between the two backends. */
export interface Disagreement {
  readonly kernelName: string;
  readonly signature: string;
  readonly variant: string;
  /** `output k` or `gradient of <input>`. */
  readonly what: string;
  readonly index: number;
  readonly reference: number;
  readonly actual: number;
  /** Elements that disagree, of `size`. */
  readonly count: number;
  readonly size: number;
}

interface HostResult {
  readonly shape: number[];
  readonly dtype: DataType;
  readonly values: ArrayLike<number>;
}

async function onBackend(backend: string, run: () => tf.Tensor[]): Promise<HostResult[] | string> {
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) throw new Error(`could not switch to ${backend}`);
  try {
    const outputs = tf.tidy(run);
    const results = outputs.map((t) => ({ shape: [...t.shape], dtype: t.dtype, values: t.dataSync().slice() }));
    tf.dispose(outputs);
    return results;
  } catch (error) {
    return (error as Error).message.split('\n')[0]!;
  }
}

function makeInputs(call: KernelCall, variant: Variant, seed: number): NamedTensorMap {
  return Object.fromEntries(
    call.inputs.map((input, k) => {
      const values = input.dtype === 'float32' ? variant.fill(input.values as Float32Array, seed + 7919 * k) : input.values;
      return [input.name, tf.tensor(values, [...input.shape], input.dtype)];
    }),
  );
}

function forward(call: KernelCall, variant: Variant, seed: number): tf.Tensor[] {
  const out = tf.engine().runKernel(call.kernelName, makeInputs(call, variant, seed), call.attrs) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** Gradients of Σ(output₀ · dy) with respect to every float32 input, dy random; null when there is none. */
function gradients(call: KernelCall, variant: Variant, seed: number): tf.Tensor[] {
  const inputs = makeInputs(call, variant, seed);
  const floatNames = call.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);
  const f = (...xs: tf.Tensor[]) => {
    const replaced = { ...inputs };
    floatNames.forEach((name, k) => (replaced[name] = xs[k]!));
    const out = tf.engine().runKernel(call.kernelName, replaced, call.attrs) as tf.Tensor | tf.Tensor[];
    const first = Array.isArray(out) ? out[0]! : out;
    const next = xorshift(seed + 13);
    const dy = tf.tensor(Float32Array.from({ length: first.size }, () => next() * 2 - 1), first.shape);
    return tf.sum(tf.mul(first, dy));
  };
  return tf.grads(f)(floatNames.map((name) => inputs[name]!));
}

/** True when the kernel has a gradient this audit can take (a float first output and float inputs). */
export function hasAuditableGradient(call: KernelCall): boolean {
  if (tf.getGradient(call.kernelName) === undefined) return false;
  return call.inputs.some((i) => i.dtype === 'float32');
}

function compare(
  call: KernelCall,
  variant: string,
  what: string,
  reference: HostResult,
  actual: HostResult,
  exact: boolean,
): Disagreement | null {
  const size = reference.values.length;
  if (reference.shape.join() !== actual.shape.join() || actual.values.length !== size) {
    return { kernelName: call.kernelName, signature: call.signature, variant, what: `${what} shape [${actual.shape}] vs [${reference.shape}]`, index: -1, reference: Number.NaN, actual: Number.NaN, count: size, size };
  }
  let sumSquares = 0;
  let finite = 0;
  for (let i = 0; i < size; i++) {
    const v = reference.values[i]!;
    if (Number.isFinite(v)) {
      sumSquares += v * v;
      finite++;
    }
  }
  const rms = finite > 0 ? Math.sqrt(sumSquares / finite) : 0;
  let first = -1;
  let count = 0;
  for (let i = 0; i < size; i++) {
    const r = reference.values[i]!;
    const a = actual.values[i]!;
    let same: boolean;
    if (Number.isNaN(r) || Number.isNaN(a)) same = Number.isNaN(r) && Number.isNaN(a);
    else if (!Number.isFinite(r) || !Number.isFinite(a) || exact) same = r === a;
    else same = Math.abs(r - a) <= RELATIVE_TOLERANCE * Math.max(Math.abs(r), rms) + DENORMAL_TOLERANCE;
    if (!same) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (count === 0) return null;
  return { kernelName: call.kernelName, signature: call.signature, variant, what, index: first, reference: reference.values[first]!, actual: actual.values[first]!, count, size };
}

/**
 * Replays `call` on `reference` (normally `'cpu'`) and `backend` for every variant, forward and through
 * its gradient, and returns every disagreement (at most one per variant and output). A kernel that
 * throws on one backend only is a disagreement; throwing on both is not (the inputs are invalid for it).
 */
export async function auditKernelCall(call: KernelCall, backend: string, reference = 'cpu', seed = 1): Promise<Disagreement[]> {
  const found: Disagreement[] = [];
  const exact = EXACT_KERNELS.has(call.kernelName);
  const withGradient = hasAuditableGradient(call);
  for (const variant of auditVariants()) {
    const cases: Array<[string, (c: KernelCall, v: Variant, s: number) => tf.Tensor[], boolean]> = [['output', forward, exact]];
    if (withGradient) cases.push(['gradient', gradients, false]);
    for (const [what, run, isExact] of cases) {
      const expected = await onBackend(reference, () => run(call, variant, seed));
      const actual = await onBackend(backend, () => run(call, variant, seed));
      if (typeof expected === 'string' || typeof actual === 'string') {
        if (typeof expected !== typeof actual) {
          found.push({ kernelName: call.kernelName, signature: call.signature, variant: variant.label, what: `${what} throws: ${typeof actual === 'string' ? actual : expected}`, index: -1, reference: Number.NaN, actual: Number.NaN, count: 1, size: 1 });
        }
        continue;
      }
      expected.forEach((e, k) => {
        const d = compare(call, variant.label, what === 'output' ? `output ${k}` : `gradient of ${call.inputs.filter((i) => i.dtype === 'float32')[k]?.name}`, e, actual[k]!, isExact);
        if (d) found.push(d);
      });
    }
  }
  return found;
}

/** A difference between stock wasm and cpu that cannot be fixed here; each is named in the README with its effect. */
export interface KnownDifference {
  readonly kernelName: string;
  /** Why it differs and what it changes for a user. */
  readonly reason: string;
  matches(disagreement: Disagreement): boolean;
}

/** Kernels that accumulate products: cpu sums them in float64 and rounds once, wasm sums in float32. */
const ACCUMULATING = /^(Conv2D|Conv2DBackpropFilter|Conv2DBackpropInput|FusedConv2D|DepthwiseConv2dNative|DepthwiseConv2dNativeBackpropFilter|DepthwiseConv2dNativeBackpropInput|FusedDepthwiseConv2D|BatchMatMul|_FusedMatMul)$/;

/** The differences the audit accepts: float-model differences of non-finite edge inputs, not defects. */
export const KNOWN_WASM_DIFFERENCES: readonly KnownDifference[] = [
  {
    kernelName: 'convolutions and matrix products',
    reason:
      'With inputs of ±1e30 every product (1e60) overflows float32. wasm computes in float32 as TensorFlow and ' +
      'PyTorch do, so +Inf and -Inf products meet and give NaN; the cpu backend multiplies and sums in float64 ' +
      'and only rounds the total, which overflows to ±Inf instead. No finite model or image reaches this.',
    matches: (d) => ACCUMULATING.test(d.kernelName) && d.variant === '±1e30',
  },
  {
    kernelName: 'padded convolutions',
    reason:
      'With ±Inf filter weights, XNNPACK multiplies the zero padding by them (0·Inf = NaN) where the cpu backend ' +
      'skips padded taps, so border outputs are NaN on wasm and ±Inf on cpu. Only a model whose weights are ' +
      'already infinite is affected.',
    matches: (d) => ACCUMULATING.test(d.kernelName) && d.variant === '±Inf' && d.signature.includes('"pad":"same"'),
  },
  {
    kernelName: 'TopK',
    reason:
      'Here the oracle is wrong: cpu compares by subtraction, and Inf − Inf is NaN, so with repeated infinities its ' +
      'selection and its tie order are inconsistent (it can return -Inf among the top k while +Inf is left out). wasm ' +
      'returns the k largest values with ties in index order, the documented rule; kernels/corrected.spec.ts checks ' +
      'that against a direct reference. Only logits that are already infinite reach this (APGD-T and DLR sort logits).',
    matches: (d) => d.kernelName === 'TopK' && d.variant === '±Inf',
  },
];
