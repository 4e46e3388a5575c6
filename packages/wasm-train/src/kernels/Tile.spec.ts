import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectNoLeak, host, numRuns, runKernelOn, type HostTensor } from '../spec-support/helpers.js';

// Tile is a pure copy, so the result must equal cpu's exactly, for every dtype the wasm backend holds.
const tileCaseArb = fc
  .integer({ min: 1, max: 5 })
  .chain((rank) =>
    fc.record({
      shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: rank, maxLength: rank }),
      reps: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: rank, maxLength: rank }),
      dtype: fc.constantFrom('float32' as const, 'int32' as const, 'bool' as const),
      seed: fc.integer({ min: 1, max: 1_000_000 }),
    }),
  );

function input(c: { shape: number[]; dtype: 'float32' | 'int32' | 'bool'; seed: number }): HostTensor {
  const values = host(c.shape, c.seed).values;
  if (c.dtype === 'float32') return { shape: c.shape, values };
  const ints = Int32Array.from(values, (v) => (c.dtype === 'bool' ? Number(v > 0) : Math.round(v * 100)));
  return { shape: c.shape, values: ints, dtype: c.dtype as 'int32' };
}

describe('Tile on wasm', () => {
  it('equals the cpu backend exactly, for float32, int32 and bool', async () => {
    await fc.assert(
      fc.asyncProperty(tileCaseArb, async (c) => {
        const x = input(c);
        const attrs = { reps: c.reps };
        const ours = await runKernelOn('wasm', 'Tile', { x }, attrs);
        const cpu = await runKernelOn('cpu', 'Tile', { x }, attrs);
        expect(ours.shape).toEqual(cpu.shape);
        expect(Array.from(ours.values)).toEqual(Array.from(cpu.values));
      }),
      { numRuns: 2 * numRuns },
    );
  });

  it('tiles a batch-norm vector over a [64,32,32,16] activation, as the gradient does', async () => {
    const x: HostTensor = { shape: [1, 1, 1, 16], values: host([16], 3).values };
    const ours = await runKernelOn('wasm', 'Tile', { x }, { reps: [64, 32, 32, 1] });
    expect(ours.shape).toEqual([64, 32, 32, 16]);
    for (let i = 0; i < ours.values.length; i += 997) expect(ours.values[i]).toBe(x.values[i % 16]);
  });

  it('leaves no tensors or buffers behind', async () => {
    const cases = fc.sample(tileCaseArb, { numRuns: 6, seed: 2 });
    await expectNoLeak(async () => {
      for (const c of cases) await runKernelOn('wasm', 'Tile', { x: input(c) }, { reps: c.reps });
    });
  });
});
