import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, numRuns, runKernelOn, type HostTensor } from '../spec-support/helpers.js';

// The kernels the audit found wrong on stock wasm (Sign, the NaN-swallowing clamps, the leading-axis
// reductions with non-finite columns, MaxPoolGrad on -Inf/NaN windows) must equal cpu exactly on edge values.

const EDGES = [0, -0, 1e-40, -1e-40, 1e-30, -1e-30, 1e-7, -1e-7, 1e30, -1e30, Infinity, -Infinity, Number.NaN, 0.5, -2, 7];
const edgeArb = fc.constantFrom(...EDGES);
const valuesArb = (min: number, max: number) => fc.array(fc.oneof(edgeArb, fc.float({ noNaN: false })), { minLength: min, maxLength: max });

function tensor(values: number[], shape = [values.length]): HostTensor {
  return { shape, values: Float32Array.from(values) };
}

/** Equal element for element, NaN equal to NaN, ±0 equal. */
function expectSame(actual: HostTensor, expected: HostTensor): void {
  expect(actual.shape).toEqual(expected.shape);
  const show = (t: HostTensor) => Array.from(t.values, (v) => (Number.isNaN(v) ? 'NaN' : v === 0 ? 0 : v));
  expect(show(actual)).toEqual(show(expected));
}

async function sameOnBoth(kernel: string, inputs: Record<string, HostTensor>, attrs: Record<string, unknown> = {}): Promise<void> {
  const ours = await runKernelOn('wasm', kernel, inputs, attrs as never);
  const cpu = await runKernelOn('cpu', kernel, inputs, attrs as never);
  expectSame(ours, cpu);
}

describe('kernels corrected against cpu on wasm', () => {
  it('Sign gives ±1 for tiny, denormal and huge values (stock gave 0 below ~1e-6)', async () => {
    await sameOnBoth('Sign', { x: tensor([1e-7, -1e-7, 1e-30, -1e-38, 1e-40, -1e-45, 0, -0, Number.NaN, Infinity, -Infinity, 3]) });
    await fc.assert(fc.asyncProperty(valuesArb(1, 40), async (values) => sameOnBoth('Sign', { x: tensor(values) })), { numRuns });
  });

  it('Relu, Relu6 and ClipByValue pass NaN through and clamp everything else as cpu does', async () => {
    await fc.assert(
      fc.asyncProperty(valuesArb(1, 40), fc.double({ min: -3, max: 0, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), async (values, lo, hi) => {
        const x = tensor(values);
        await sameOnBoth('Relu', { x });
        await sameOnBoth('Relu6', { x });
        await sameOnBoth('ClipByValue', { x }, { clipValueMin: Math.fround(lo), clipValueMax: Math.fround(hi) });
      }),
      { numRuns },
    );
  });

  it('a fused ReLU after a matrix product or a non-Winograd convolution keeps NaN', async () => {
    const a = tensor([1, Number.NaN, 2, 0.5, -1, 3], [1, 2, 3]);
    const b = tensor([1, -1, 0.5, 2, -2, 1], [1, 3, 2]);
    for (const activation of ['relu', 'relu6'] as const) {
      await sameOnBoth('_FusedMatMul', { a, b }, { transposeA: false, transposeB: false, activation });
    }
    const x = tensor([0.5, Number.NaN, -1, 2, 1, -0.5, 0.25, 3, -2], [1, 3, 3, 1]);
    const filter = tensor([1, -1, 0.5, 2], [2, 2, 1, 1]);
    await sameOnBoth('FusedConv2D', { x, filter }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: 'relu' });
  });

  it('Sum and Mean over leading axes give NaN for NaN or +Inf with -Inf, and ±Inf otherwise', async () => {
    const x = tensor([Number.NaN, Infinity, Infinity, 1, 2, 3, 4, -Infinity, 5, 6, 7, 8], [3, 4]);
    for (const kernel of ['Sum', 'Mean']) await sameOnBoth(kernel, { x }, { axis: [0], keepDims: false });
  });

  it('MaxPoolGrad passes no gradient out of a window of only -Inf and NaN, as cpu', async () => {
    const input = tensor([-Infinity, -Infinity, Number.NaN, -Infinity, 1, Number.NaN, -Infinity, 2, Number.NaN, Number.NaN, Number.NaN, Number.NaN, 3, 3, 3, 3], [1, 4, 4, 1]);
    const output = tensor([0, 0, 0, 0], [1, 2, 2, 1]);
    const dy = tensor([1, 2, 3, 4], [1, 2, 2, 1]);
    for (const [filterSize, strides] of [[[2, 2], [2, 2]], [[3, 3], [1, 1]]] as const) {
      const out = filterSize[0] === 3 ? tensor([0, 0, 0, 0], [1, 2, 2, 1]) : output;
      await sameOnBoth('MaxPoolGrad', { dy, input, output: out }, { filterSize: [...filterSize], strides: [...strides], pad: 'valid' });
    }
  });

  it('TopK returns the k largest with ties in index order, infinities included (cpu is inconsistent there)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(Infinity, -Infinity, 1, 0, -2), { minLength: 2, maxLength: 12 }), fc.nat(), async (row, pick) => {
        const k = 1 + (pick % row.length);
        const result = await runKernelOn('wasm', 'TopK', { x: tensor(row, [1, row.length]) }, { k, sorted: true });
        const expected = row.map((value, index) => ({ value, index })).sort((a, b) => (a.value === b.value ? a.index - b.index : b.value > a.value ? 1 : -1)).slice(0, k);
        expect(Array.from(result.values)).toEqual(expected.map((e) => e.value));
      }),
      { numRuns },
    );
  });

  it('allocates nothing that outlives the call', async () => {
    await expectNoLeak(async () => {
      await sameOnBoth('Relu', { x: tensor([Number.NaN, -1, 2]) });
      await sameOnBoth('Sign', { x: tensor([1e-9, -1e-9]) });
    });
  });
});
