import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expectNoLeak, host, maxRelativeError, numRuns, runKernelOn } from './helpers.js';

// One spec body for the two reductions replaced over leading axes, Sum and Mean.
// Both are linear with a constant Jacobian, so the cpu comparison is the whole check. Tolerance:
// ≤ 1e-5 relative (float32 accumulation of at most a few hundred values here), plus one large
// bias-gradient-sized case at ≤ 1e-4 (73,728 float32 terms per channel).

const caseArb = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
    axisCount: fc.integer({ min: 1, max: 4 }),
    leading: fc.boolean(),
    keepDims: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1_000_000 }),
  })
  .map((c) => {
    const count = Math.min(c.axisCount, c.shape.length);
    const axis = c.leading ? [...Array(count).keys()] : [...Array(count).keys()].map((i) => c.shape.length - 1 - i);
    return { ...c, axis };
  });

/** Declares the cpu and leak specs for the reduction kernel `kernel`. */
export function describeReduction(kernel: 'Sum' | 'Mean'): void {
  describe(`${kernel} on wasm`, () => {
    it('matches the cpu backend over leading and trailing axes', async () => {
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const x = host(c.shape, c.seed);
          const attrs = { axis: c.axis, keepDims: c.keepDims };
          const wasm = await runKernelOn('wasm', kernel, { x }, attrs);
          const cpu = await runKernelOn('cpu', kernel, { x }, attrs);
          expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-5);
        }),
        { numRuns },
      );
    });

    it('reduces a bias-gradient-sized dy like the cpu backend', async () => {
      const x = host([128, 24, 24, 4], 3);
      const wasm = await runKernelOn('wasm', kernel, { x }, { axis: [0, 1, 2], keepDims: false });
      const cpu = await runKernelOn('cpu', kernel, { x }, { axis: [0, 1, 2], keepDims: false });
      expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-4);
    });

    it('handles a single reduced row (a 1x1 average pool)', async () => {
      const x = host([1, 1, 3], 5);
      const wasm = await runKernelOn('wasm', kernel, { x }, { axis: [0, 1], keepDims: true });
      expect(wasm.shape).toEqual([1, 1, 3]);
      expect(maxRelativeError(wasm, await runKernelOn('cpu', kernel, { x }, { axis: [0, 1], keepDims: true }))).toBeLessThan(1e-6);
    });

    it('leaves no tensors or backend buffers behind', async () => {
      const x = host([4, 3, 2], 1);
      await runKernelOn('wasm', kernel, { x }, { axis: [0, 1], keepDims: false });
      await expectNoLeak(async () => {
        await runKernelOn('wasm', kernel, { x }, { axis: [0, 1], keepDims: false });
      });
    });
  });
}
