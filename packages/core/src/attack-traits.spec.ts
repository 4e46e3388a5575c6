import { describe, expect, it } from 'vitest';
import { attackTraits } from './attack-traits.js';

describe('attackTraits', () => {
  it('fills the documented defaults for an attack that declares nothing', () => {
    expect(attackTraits({ epsilon: 0.3 })).toEqual({ defaultMode: 'untargeted', blackBox: false, minimumDistortion: false, singleStep: false, ensemble: false, blackBoxComponents: [] });
    // Minimum-distortion by default exactly when the budget is unbounded; black-box when no input gradient is needed.
    expect(attackTraits({ epsilon: Infinity }).minimumDistortion).toBe(true);
    expect(attackTraits({ epsilon: 0.3, requires: ['logits'] }).blackBox).toBe(true);
    expect(attackTraits({ epsilon: 0.3, requires: ['logits', 'inputGradients'] }).blackBox).toBe(false);
  });

  it('keeps what the attack declares, over every default', () => {
    const marginTwin = (p: Readonly<Record<string, unknown>>) => ({ ...p, loss: 'margin' });
    const traits = attackTraits({
      epsilon: Infinity,
      requires: ['logits'],
      traits: { defaultMode: 'targeted', blackBox: false, minimumDistortion: false, singleStep: true, ensemble: true, blackBoxComponents: ['q'], marginTwin },
    });
    expect(traits).toEqual({ defaultMode: 'targeted', blackBox: false, minimumDistortion: false, singleStep: true, ensemble: true, blackBoxComponents: ['q'], marginTwin });
  });
});
