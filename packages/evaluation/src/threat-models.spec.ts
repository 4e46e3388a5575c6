import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AttackRecord } from '@tempered/attacks';
import { computeThreatModels, type AttackRun } from './index.js';

/** An untargeted row of example `example` (label `label`) whose adversarial prediction is `adversarial`. */
function row(example: number, label: number, cleanCorrect: boolean, adversarial: number): AttackRecord {
  const cleanPrediction = cleanCorrect ? label : (label + 1) % 3;
  return {
    example, label, cleanPrediction, prediction: adversarial,
    attackable: cleanCorrect, success: adversarial !== label, robust: cleanCorrect && adversarial === label,
    l0: 1, l2: 0.1, linf: 0.1, featureCount: 4,
  };
}

describe('threat models', () => {
  it('take the per-example worst case within one (norm, ε), never across budgets or with minimum-distortion attacks', () => {
    const labels = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const correct = [true, true, true, true, true, false];
    const rows = (broken: number[]) => Array.from(labels, (label, i) => row(i, label, correct[i]!, broken.includes(i) ? (label + 1) % 3 : label));
    const records: AttackRun[] = [
      { key: 'fgsm', norm: 'linf', epsilon: 0.3, rows: rows([0]) },
      { key: 'pgd', norm: 'linf', epsilon: 0.3, rows: rows([0, 1]) },
      { key: 'pgd-small', norm: 'linf', epsilon: 0.1, rows: rows([]) },
      { key: 'pgd-l2', norm: 'l2', epsilon: 2, rows: rows([3]) },
      { key: 'cw', norm: 'l2', epsilon: null, rows: rows([0, 1, 2, 3, 4]) },
      // An ensemble whose components say who broke what; rows they do not name fall back to the attack.
      { key: 'aa', norm: 'linf', epsilon: 0.3, rows: rows([1, 2, 3]), components: [null, 'apgd-ce', 'square', null, null, null], ran: ['apgd-ce', 'square'] },
    ];
    const result = computeThreatModels(records, { labels, correct, classes: 3 });
    expect(Object.keys(result).sort()).toEqual(['l2:2', 'linf:0.1', 'linf:0.3']);
    const linf = result['linf:0.3']!;
    expect(linf.attacks).toEqual(['fgsm', 'pgd', 'aa']);
    expect(linf.ran).toEqual(['fgsm', 'pgd', 'aa/apgd-ce', 'aa/square']);
    // Robust: only example 4 (5 is misclassified clean); C&W's breaks of 4 do not count.
    expect(linf.robustAccuracy).toBeCloseTo(1 / 6);
    expect(linf.brokenBy).toEqual(['fgsm', 'pgd', 'aa/square', 'aa', null, 'clean']);
    expect(linf.breakers).toEqual({ fgsm: 1, pgd: 1, 'aa/square': 1, aa: 1, clean: 1 });
    expect(linf.broken).toEqual({ fgsm: [0], pgd: [0, 1], 'aa/apgd-ce': [1], 'aa/square': [2], aa: [3] });
    expect(result['linf:0.1']!.robustAccuracy).toBeCloseTo(5 / 6);
    expect(result['l2:2']!.robustAccuracy).toBeCloseTo(4 / 6);
    expect(linf.cleanAccuracy).toBeCloseTo(5 / 6);
    expect(linf.robustAccuracyInterval![0]).toBeLessThan(1 / 6);
    expect(linf.robustAccuracyInterval![1]).toBeGreaterThan(1 / 6);
    // Per class: class 0 = examples 0, 3 (both broken); class 1 = 1, 4 (4 robust); class 2 = 2, 5.
    expect(linf.perClass.map((c) => [c.label, c.examples, c.robustAccuracy])).toEqual([[0, 2, 0], [1, 2, 0.5], [2, 2, 0]]);
    expect(linf.perClass[2]!.cleanAccuracy).toBe(0.5);
    expect(linf.worstClass).toEqual({ label: 0, robustAccuracy: 0 });
  });

  it('robust accuracy equals the share of examples correct clean and after every attack of the threat model (randomised)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 12 }),
        (examples) => {
          const labels = Int32Array.from(examples.map((e) => e[0]));
          const correct = examples.map((e) => e[1]);
          const attack = (column: 2 | 3 | 4) => examples.map((e, i) => row(i, e[0], e[1], e[column] ? (e[0] + 1) % 3 : e[0]));
          const result = computeThreatModels(
            [
              { key: 'a', norm: 'linf', epsilon: 0.3, rows: attack(2) },
              { key: 'b', norm: 'linf', epsilon: 0.3, rows: attack(3) },
              { key: 'other-budget', norm: 'linf', epsilon: 0.5, rows: attack(4) },
            ],
            { labels, correct, classes: 3 },
          );
          const expected = examples.filter((e) => e[1] && !e[2] && !e[3]).length / examples.length;
          expect(result['linf:0.3']!.robustAccuracy).toBeCloseTo(expected, 12);
          const perClass = result['linf:0.3']!.perClass;
          const total = perClass.reduce((n, c) => n + (c.robustAccuracy ?? 0) * c.examples, 0);
          expect(total / examples.length).toBeCloseTo(expected, 12);
          const worst = result['linf:0.3']!.worstClass!;
          expect(worst.robustAccuracy).toBe(Math.min(...perClass.filter((c) => c.examples > 0).map((c) => c.robustAccuracy!)));
        },
      ),
      { numRuns: 100 },
    );
  });
});
