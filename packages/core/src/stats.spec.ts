import { describe, expect, it } from 'vitest';
import { median } from './index.js';

describe('median', () => {
  it('is the middle value for an odd count and the mean of the middle pair for an even count', () => {
    // By hand: sorted [1, 2, 3] → 2; sorted [1, 2, 10, 40] → (2 + 10) / 2 = 6 (the upper-middle
    // rule would give 10, the lower-middle 2).
    expect(median([3, 1, 2])).toBe(2);
    expect(median([40, 2, 1, 10])).toBe(6);
    expect(median([-5, 7])).toBe(1);
    expect(median([0.25])).toBe(0.25);
    expect(median(new Float32Array([3, -1, 2, 8]))).toBe(2.5);
  });

  it('sorts numerically, not as strings, and leaves its input alone', () => {
    const values = [100, 9, 20];
    expect(median(values)).toBe(20);
    expect(median([100, 9, 20, 3])).toBe(14.5); // string order [100, 20, 3, 9] would give 11.5
    expect(values).toEqual([100, 9, 20]);
  });

  it('is NaN for an empty list (an undefined statistic)', () => {
    expect(median([])).toBeNaN();
  });
});
