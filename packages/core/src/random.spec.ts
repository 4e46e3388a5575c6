import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Rng, deriveSeed, permutation } from './random.js';

describe('seeded randomness', () => {
  it('replays the same stream from the same seed and state', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const a = new Rng(seed);
        const b = new Rng(seed);
        const first = Array.from({ length: 5 }, () => a.next());
        expect(Array.from({ length: 5 }, () => b.next())).toEqual(first);
        const saved = a.state;
        const next = a.next();
        a.state = saved;
        expect(a.next()).toBe(next);
        return first.every((v) => v >= 0 && v < 1);
      }),
    );
  });

  it('derives distinct, stable sub-seeds per purpose', () => {
    expect(deriveSeed(1, 'shuffle', 0)).toBe(deriveSeed(1, 'shuffle', 0));
    const seeds = new Set([deriveSeed(1, 'shuffle', 0), deriveSeed(1, 'shuffle', 1), deriveSeed(2, 'shuffle', 0), deriveSeed(1, 'init', 0)]);
    expect(seeds.size).toBe(4);
  });

  it('draws permutations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
        const p = Array.from(permutation(n, new Rng(seed)));
        expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      }),
    );
  });

  it('has roughly uniform and normal marginals', () => {
    const rng = new Rng(42);
    const u = rng.uniformArray(20000, -1, 1);
    const mean = u.reduce((s, v) => s + v, 0) / u.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    const z = rng.normalArray(20000);
    const zm = z.reduce((s, v) => s + v, 0) / z.length;
    const zv = z.reduce((s, v) => s + (v - zm) ** 2, 0) / z.length;
    expect(Math.abs(zm)).toBeLessThan(0.03);
    expect(Math.abs(zv - 1)).toBeLessThan(0.05);
  });
});
