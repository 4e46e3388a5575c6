/** The perturbation norms a threat model is stated in (a type only, so it lives apart from the tfjs-typed interfaces). */
export type Norm = 'linf' | 'l2' | 'l0';
