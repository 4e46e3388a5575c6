import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  assertCloseDifferences,
  centralDifferences,
  dot,
  expectNoLeak,
  host,
  maxRelativeError,
  numRuns,
  runKernelOn,
} from '../spec-support/helpers.js';

// Tolerances: ≤ 1e-4 relative to cpu; finite differences with ε = 1 (the loss Σ (a·b)·w is linear in a)
// within 1e-3 relative, checked against the gradient tfjs would form, wᵀ-products via this kernel.

const caseArb = fc.record({
  m: fc.integer({ min: 1, max: 7 }),
  k: fc.integer({ min: 1, max: 7 }),
  n: fc.integer({ min: 1, max: 7 }),
  batch: fc.constantFrom<number[]>([], [1], [2]),
  transposeA: fc.boolean(),
  transposeB: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});
type Case = typeof caseArb extends fc.Arbitrary<infer T> ? T : never;

function operands(c: Case) {
  const a = host([...c.batch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])], c.seed);
  const b = host([...c.batch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])], c.seed + 1);
  return { a, b };
}

describe('BatchMatMul on wasm', () => {
  it('matches the cpu backend with and without transposes', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const attrs = { transposeA: c.transposeA, transposeB: c.transposeB };
        const wasm = await runKernelOn('wasm', 'BatchMatMul', operands(c), attrs);
        const cpu = await runKernelOn('cpu', 'BatchMatMul', operands(c), attrs);
        expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
      }),
      { numRuns },
    );
  });

  it('gives gradients that match central finite differences', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c0) => {
        const c = { ...c0, batch: [], transposeA: false };
        const { a, b } = operands(c);
        const w = host([c.m, c.n], c.seed + 2);
        // dL/da = w · bᵀ (or w · b when b is stored transposed), computed by the kernel under test.
        const analytic = await runKernelOn('wasm', 'BatchMatMul', { a: w, b }, { transposeA: false, transposeB: !c.transposeB });
        const loss = async (values: Float32Array) =>
          dot((await runKernelOn('wasm', 'BatchMatMul', { a: { ...a, values }, b }, { transposeA: false, transposeB: c.transposeB })).values, w.values);
        const checks = await centralDifferences(a.values as Float32Array, analytic.values, loss, { epsilon: 1, samples: 3, seed: c.seed });
        assertCloseDifferences(checks, 1e-3);
      }),
      { numRuns: Math.ceil(numRuns / 2) },
    );
  });

  it('leaves no tensors or backend buffers behind', async () => {
    const c: Case = { m: 3, k: 4, n: 5, batch: [1], transposeA: true, transposeB: true, seed: 4 };
    await runKernelOn('wasm', 'BatchMatMul', operands(c), { transposeA: true, transposeB: true });
    await expectNoLeak(async () => {
      await runKernelOn('wasm', 'BatchMatMul', operands(c), { transposeA: true, transposeB: true });
    });
  });
});
