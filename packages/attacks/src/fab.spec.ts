import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '@tempered/core';
import { expectNoLeaks } from '@tempered/core/testing';
import { AutoAttack } from './autoattack.js';
import { attackIterationCosts } from './bench.js';
import { Fab } from './fab.js';
import { distance, projectOntoPlane, projectionScratch } from './fab-projection.js';
import { attackRecords } from './records.js';
import { linearModel, linearMulticlass, predict, randomMlp, tinyCnn, uniformInputs } from './spec-fixtures.js';

const BOX = { min: 0, max: 1 };

/**
 * The exact minimal ‖d‖ (L∞ or L2) with ⟨w, p + d⟩ = rhs and p + d in the box, by bisection on the
 * closed-form reach of each radius (independent of the sorting solver): coordinate j can move
 * min(r, room_j) (L∞) or min(r·|w_j|, room_j) (L2, the KKT direction) in its helpful direction.
 */
function minimalDistance(p: number[], w: number[], rhs: number, norm: 'linf' | 'l2'): number {
  const c = w.reduce((s, v, j) => s + v * p[j]!, 0) - rhs;
  const rooms = w.map((v, j) => ((c >= 0 ? v < 0 : v > 0) ? 1 - p[j]! : p[j]!));
  const steps = (r: number) => w.map((v, j) => (v === 0 ? 0 : norm === 'linf' ? Math.min(r, rooms[j]!) : Math.min(r * Math.abs(v), rooms[j]!)));
  const reach = (r: number) => steps(r).reduce((s, d, j) => s + Math.abs(w[j]!) * d, 0);
  let lo = 0;
  let hi = 1e6;
  if (reach(hi) < Math.abs(c)) return Infinity;
  for (let k = 0; k < 200; k++) {
    const mid = (lo + hi) / 2;
    if (reach(mid) >= Math.abs(c)) hi = mid;
    else lo = mid;
  }
  const d = steps(hi);
  return norm === 'linf' ? Math.max(0, ...d) : Math.sqrt(d.reduce((s, v) => s + v * v, 0));
}

describe('FAB projection onto a hyperplane within the box', () => {
  it('lands on the plane inside the box at the exact minimal L∞ / L2 distance (random planes, binding boxes, tied breakpoints)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 2, max: 24 }), fc.constantFrom('linf' as const, 'l2' as const), fc.double({ min: -3, max: 3, noNaN: true }), (seed, size, norm, shift) => {
        const rng = new Rng(seed);
        // Odd seeds: pixels on a coarse grid, so breakpoints tie and some sit on the bounds.
        const p = Array.from(rng.uniformArray(size, 0, 1), (v) => (seed % 2 === 1 ? Math.round(v * 4) / 4 : v));
        const w = Array.from(rng.normalArray(size), (v, j) => (j % 5 === 4 ? 0 : v));
        const rhs = w.reduce((s, v, j) => s + v * p[j]!, 0) + shift;
        const d = new Float32Array(size);
        projectOntoPlane(p, w, rhs, norm, BOX, d, projectionScratch(size));
        const z = p.map((v, j) => v + d[j]!);
        z.forEach((v) => {
          expect(v).toBeGreaterThanOrEqual(-1e-6);
          expect(v).toBeLessThanOrEqual(1 + 1e-6);
        });
        const exact = minimalDistance(p, w, rhs, norm);
        const size_ = distance(z, p, norm);
        if (Number.isFinite(exact)) {
          expect(Math.abs(w.reduce((s, v, j) => s + v * z[j]!, 0) - rhs)).toBeLessThan(1e-4);
          expect(size_).toBeCloseTo(exact, 4);
        } else {
          // Out of reach: every coordinate sits at the bound that moves ⟨w, ·⟩ towards rhs.
          const below = w.reduce((s, v, j) => s + v * p[j]!, 0) < rhs;
          w.forEach((v, j) => v !== 0 && expect(z[j]).toBeCloseTo(v > 0 === below ? 1 : 0, 6));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('FAB', () => {
  it('on a two-class linear model finds the exact minimal L∞ and L2 perturbation, never below it', async () => {
    await expectNoLeaks(async () => {
      const batch = 10;
      const size = 12;
      const rng = new Rng(5);
      const weights = [Array.from(rng.normalArray(size)), Array.from(rng.normalArray(size))];
      const bias = [0.1, -0.1];
      const model = linearModel(weights, bias);
      const xs = rng.uniformArray(batch * size, 0.4, 0.6);
      const x = tf.tensor2d(xs, [batch, size]);
      const y = tf.tensor1d(predict(model, x), 'int32');
      const labels = y.dataSync();
      const deltaW = weights[1]!.map((v, j) => v - weights[0]![j]!);
      for (const norm of ['linf', 'l2'] as const) {
        const { adversarial, iterations } = await new Fab({ norm }).run(model, x, y);
        const records = attackRecords(model, x, adversarial, y);
        records.forEach((r, i) => {
          const row = Array.from(xs.subarray(i * size, (i + 1) * size));
          const plane = (bias[0]! - bias[1]!);
          const exact = minimalDistance(row, deltaW, plane, norm);
          const margin = Math.abs(deltaW.reduce((s, v, j) => s + v * row[j]!, 0) - plane);
          // Interior points: the box does not bind, so the closed form holds too.
          const closed = margin / (norm === 'linf' ? deltaW.reduce((s, v) => s + Math.abs(v), 0) : Math.hypot(...deltaW));
          expect(exact).toBeCloseTo(closed, 6);
          const found = norm === 'linf' ? r.linf : r.l2;
          expect(r.success, `${norm} example ${i} (label ${labels[i]})`).toBe(true);
          expect(found).toBeGreaterThanOrEqual(exact * (1 - 1e-5));
          // η's overshoot and the backward step leave FAB a fraction of a percent above the boundary.
          expect(found).toBeLessThanOrEqual(exact * 1.01);
          expect(iterations[i]).toBe(1); // the first projection (with η's 5 % overshoot) is already adversarial
        });
        adversarial.dispose();
      }
      tf.dispose([x, y]);
    });
  });

  it('on a multi-class linear model: FAB-T and untargeted FAB never go below the nearest boundary; untargeted FAB reaches it', async () => {
    await expectNoLeaks(async () => {
      const batch = 12;
      const { model, xs, labels, linf, l2 } = linearMulticlass(7, 5, 16, batch);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      for (const norm of ['linf', 'l2'] as const) {
        const exact = norm === 'linf' ? linf : l2;
        for (const targetClasses of [9, 0]) {
          const adversarial = await new Fab({ norm, targetClasses }).generate(model, x, y);
          attackRecords(model, x, adversarial, y).forEach((r, i) => {
            const label = `${norm} targetClasses ${targetClasses} example ${i}`;
            expect(r.success, label).toBe(true);
            const found = norm === 'linf' ? r.linf : r.l2;
            expect(found, label).toBeGreaterThanOrEqual(exact[i]! * (1 - 1e-5));
            if (targetClasses === 0) expect(found, label).toBeLessThanOrEqual(exact[i]! * 1.01);
          });
          adversarial.dispose();
        }
      }
      tf.dispose([x, y]);
    });
  });

  it('with ε > 0 counts a success only within ε and returns x otherwise (FAB-T as in AutoAttack)', async () => {
    await expectNoLeaks(async () => {
      const batch = 16;
      const { model, xs, labels, linf } = linearMulticlass(3, 4, 16, batch);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      const epsilon = [...linf].sort((a, b) => a - b)[batch / 2]!;
      const fabT = new Fab({ epsilon, steps: 50 });
      expect(fabT.epsilon).toBe(epsilon);
      expect(new Fab().epsilon).toBe(Infinity);
      const { adversarial, iterations } = await fabT.run(model, x, y);
      const records = attackRecords(model, x, adversarial, y);
      records.forEach((r, i) => {
        expect(r.linf).toBeLessThanOrEqual(epsilon + 1e-6);
        if (linf[i]! > epsilon * (1 + 1e-5)) {
          expect(r.success, `example ${i}`).toBe(false);
          expect(r.linf).toBe(0);
          expect(iterations[i]).toBe(3 * 50); // every target's run spent
        }
      });
      // The examples whose nearest boundary is well inside the ball are found (each within 3 targets).
      linf.forEach((d, i) => d < epsilon * 0.9 && expect(records[i]!.success, `example ${i}`).toBe(true));
      const ensemble = await new AutoAttack({ version: 'custom', attacks: 'fab-t', steps: 50, targetClasses: 3, epsilon }).run(model, x, y);
      expect(ensemble.ran).toEqual(['fab-t']);
      records.forEach((r, i) => expect(ensemble.brokenBy![i] === 'fab-t').toBe(r.success));
      tf.dispose([x, y, adversarial, ensemble.adversarial]);
    });
  });

  it('targeted mode reaches the given target on a linear model', async () => {
    await expectNoLeaks(async () => {
      const batch = 8;
      const { model, xs, labels } = linearMulticlass(9, 4, 16, batch);
      const x = tf.tensor2d(xs, [batch, 16]);
      const y = tf.tensor1d(labels, 'int32');
      const targets = tf.tensor1d(labels.map((l) => (l + 1) % 4), 'int32');
      const adversarial = await new Fab({ norm: 'l2' }).generate(model, x, y, { mode: 'targeted', targets });
      attackRecords(model, x, adversarial, y, { mode: 'targeted', targets }).forEach((r) => expect(r.success).toBe(true));
      tf.dispose([x, y, targets, adversarial]);
    });
  });

  it('stays in the box, within ε when bounded, flips the label of every example it changes, and leaks no tensor', async () => {
    await expectNoLeaks(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 1e6 }),
          fc.constantFrom('linf' as const, 'l2' as const),
          fc.constantFrom(0, 0.05, 0.3, 1),
          fc.constantFrom(0, 2),
          fc.integer({ min: 1, max: 2 }),
          async (seed, norm, epsilon, targetClasses, restarts) => {
            const model = randomMlp(seed, 8, 6, 4);
            const x = uniformInputs(seed + 1, 6, 8);
            const y = tf.tensor1d(predict(model, x), 'int32');
            const steps = 8;
            const attack = new Fab({ norm, epsilon, targetClasses, restarts, steps, seed });
            const { adversarial, iterations } = await attack.run(model, x, y);
            const records = attackRecords(model, x, adversarial, y);
            const [lo, hi] = tf.tidy(() => [tf.min(adversarial).dataSync()[0]!, tf.max(adversarial).dataSync()[0]!]);
            expect(lo).toBeGreaterThanOrEqual(0);
            expect(hi).toBeLessThanOrEqual(1);
            const runs = (targetClasses === 0 ? 1 : targetClasses) * restarts * steps;
            records.forEach((r, i) => {
              const size = norm === 'linf' ? r.linf : r.l2;
              if (epsilon > 0) expect(size).toBeLessThanOrEqual(epsilon * (1 + 1e-6) + 1e-7);
              // Only a successful example is moved, and a moved example is adversarial.
              if (size > 0) expect(r.success).toBe(true);
              else expect(r.success).toBe(false);
              expect(iterations[i]).toBeLessThanOrEqual(runs);
              if (!r.success) expect(iterations[i]).toBe(runs);
              else expect(iterations[i]).toBeGreaterThanOrEqual(1);
            });
            tf.dispose([x, y, adversarial]);
          },
        ),
        { numRuns: 12 },
      ),
    );
  });

  it('validates its parameters with one-line errors', () => {
    expect(() => new Fab({ eta: 0 })).toThrow(/fab\.eta: expected > 0/);
    expect(() => new Fab({ beta: 1.5 })).toThrow(/fab\.beta: expected ≤ 1/);
    expect(() => new Fab({ alphaMax: -0.1 })).toThrow(/fab\.alphaMax: expected ≥ 0/);
    expect(() => new Fab({ norm: 'l1' })).toThrow(/fab\.norm: expected one of linf, l2/);
    expect(() => new Fab({ targetClasses: 1.5 })).toThrow(/fab\.targetClasses: expected an integer/);
  });

  it('attackIterationCosts (tempered bench) times APGD, FAB-T and Square iterations without leaking', async () => {
    const model = tinyCnn(2, 4);
    const x = tf.tensor4d(new Rng(1).uniformArray(3 * 36, 0, 1), [3, 6, 6, 1]);
    const y = tf.tensor1d(predict(model, x), 'int32');
    const costs = await expectNoLeaks(() => attackIterationCosts(model, x, y, { iterations: 2 }));
    expect(costs.batch).toBe(3);
    for (const ms of [costs.apgdIterationMs, costs.fabIterationMs, costs.squareQueryMs]) expect(Number.isFinite(ms) && ms >= 0).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});
