import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, numRuns, runKernelOn, type HostTensor } from './spec-support/helpers.js';

// Comparisons, LogicalAnd and Select are exact, so wasm must equal cpu element for element. Values are
// drawn from a small set with repeats (ties), ±0, ±Infinity and NaN; sizes straddle the 16-element SIMD
// step so the JS tail runs too. The right-hand side is the same shape, a scalar (SIMD path), or a
// broadcast row (stock path).
const special = [0, -0, 1, -1, 2.5, -2.5, 6, Infinity, -Infinity, Number.NaN];
const shapeArb = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 0, maxLength: 3 });
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const valuesArb = (n: number) => fc.array(fc.constantFrom(...special), { minLength: n, maxLength: n });

const binaryCaseArb = shapeArb.chain((shape) =>
  fc.constantFrom('same', 'scalar', 'row').chain((kind) => {
    const bShape = kind === 'same' ? shape : kind === 'scalar' ? [] : shape.length === 0 ? [] : [shape[shape.length - 1]!];
    return fc.record({ shape: fc.constant(shape), bShape: fc.constant(bShape), a: valuesArb(size(shape)), b: valuesArb(size(bShape)) });
  }),
);

const float = (shape: number[], values: number[]): HostTensor => ({ shape, values: Float32Array.from(values) });
const bool = (shape: number[], values: number[]): HostTensor => ({
  shape,
  values: Int32Array.from(values, (v) => (v > 0 ? 1 : 0)),
  dtype: 'bool' as 'int32',
});

describe('comparisons, LogicalAnd and Select on wasm', () => {
  for (const kernel of ['GreaterEqual', 'LessEqual', 'Greater', 'Less'] as const) {
    it(`${kernel} equals cpu on float32 (same shape, scalar, broadcast row)`, async () => {
      await fc.assert(
        fc.asyncProperty(binaryCaseArb, async (c) => {
          const inputs = { a: float(c.shape, c.a), b: float(c.bShape, c.b) };
          const ours = await runKernelOn('wasm', kernel, inputs, {});
          const cpu = await runKernelOn('cpu', kernel, inputs, {});
          expect(ours.shape).toEqual(cpu.shape);
          expect(Array.from(ours.values)).toEqual(Array.from(cpu.values));
        }),
        { numRuns },
      );
    });
  }

  it('LogicalAnd equals cpu on bool', async () => {
    await fc.assert(
      fc.asyncProperty(binaryCaseArb, async (c) => {
        const inputs = { a: bool(c.shape, c.a), b: bool(c.bShape, c.b) };
        const ours = await runKernelOn('wasm', 'LogicalAnd', inputs, {});
        expect(Array.from(ours.values)).toEqual(Array.from((await runKernelOn('cpu', 'LogicalAnd', inputs, {})).values));
      }),
      { numRuns },
    );
  });

  it('Select equals cpu for a bool condition and float32 branches', async () => {
    const caseArb = shapeArb.chain((shape) =>
      fc.record({ shape: fc.constant(shape), c: valuesArb(size(shape)), t: valuesArb(size(shape)), e: valuesArb(size(shape)) }),
    );
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const inputs = { condition: bool(c.shape, c.c), t: float(c.shape, c.t), e: float(c.shape, c.e) };
        const ours = await runKernelOn('wasm', 'Select', inputs, {});
        expect(Array.from(ours.values)).toEqual(Array.from((await runKernelOn('cpu', 'Select', inputs, {})).values));
      }),
      { numRuns },
    );
  });

  it('leaves no tensors or buffers behind', async () => {
    const cases = fc.sample(binaryCaseArb, { numRuns: 6, seed: 4 });
    await expectNoLeak(async () => {
      for (const c of cases) {
        await runKernelOn('wasm', 'GreaterEqual', { a: float(c.shape, c.a), b: float(c.bShape, c.b) }, {});
        await runKernelOn('wasm', 'LogicalAnd', { a: bool(c.shape, c.a), b: bool(c.bShape, c.b) }, {});
        await runKernelOn('wasm', 'Select', { condition: bool(c.shape, c.a), t: float(c.shape, c.a), e: float(c.shape, c.a) }, {});
      }
    });
  });
});
