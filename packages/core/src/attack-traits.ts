import type { Attack, AttackTraits } from './types.js';

/**
 * An attack's declared {@link AttackTraits} with the defaults filled in: untargeted, black-box
 * exactly when it requires no input gradients, 
 * a single attack (not an ensemble), iterative, no margin-loss twin, and minimum-distortion
 * exactly when its budget is not finite (C&W). The evaluation engine and the CLI read an attack
 * only through this, so an attack registered under any name behaves the same.
 *
 * @example
 * attackTraits(new Jsma()).defaultMode; // 'targeted'
 */
export function attackTraits(attack: Pick<Attack, 'epsilon' | 'traits'> & Partial<Pick<Attack, 'requires'>>): AttackTraits {
  const declared = attack.traits ?? {};
  return {
    defaultMode: declared.defaultMode ?? 'untargeted',
    // An attack that needs no input gradient is score-based.
    blackBox: declared.blackBox ?? (attack.requires !== undefined && !attack.requires.includes('inputGradients')),
    minimumDistortion: declared.minimumDistortion ?? !Number.isFinite(attack.epsilon),
    singleStep: declared.singleStep ?? false,
    ensemble: declared.ensemble ?? false,
    blackBoxComponents: declared.blackBoxComponents ?? [],
    ...(declared.marginTwin ? { marginTwin: declared.marginTwin } : {}),
  };
}
