import { describe, expect, it } from 'vitest';
import { diagnose, gradientHistogram, GRADIENT_NORMS_PARAMS, hasMaskingWarning, type AttackSummary, type ModelResults } from './index.js';
import { defaultParams } from '@tempered/core';

const params = { ...defaultParams(GRADIENT_NORMS_PARAMS), quantity: 'loss' as const, norm: 'l2' as const };

function attack(name: string, over: Partial<AttackSummary>): AttackSummary {
  return {
    name, params: {}, mode: 'untargeted', norm: 'linf', epsilon: 0.3, evaluated: 100, pairs: 100,
    successRate: 0, robustAccuracy: 0.9, meanL0: null, medianL0: null, meanL2: null, medianL2: null, meanLinf: null, medianLinf: null,
    meanIterations: 40, ...over,
  };
}

function model(attacks: Record<string, AttackSummary>, sweep: number[], gradients: number[]): ModelResults {
  return {
    method: 'x', cleanAccuracy: 0.99, confidence: 0.99, worstCaseRobustAccuracy: 0.5, attacks,
    gradientHistogram: gradientHistogram(gradients, { ...params, quantity: 'probability', norm: 'l1' }),
    lossGradientHistogram: gradientHistogram(gradients, params),
    epsilonSweep: { attack: 'pgd', params: {}, norm: 'linf', evaluated: 50, range: 1, points: sweep.map((r, i) => ({ epsilon: [0.1, 0.3, 0.5, 1][i]!, robustAccuracy: r, successRate: 1 - r })) },
    diagnostics: [], examples: {},
  };
}

// Shapes of the published numbers: defensive distillation at T = 100 on MNIST (Carlini & Wagner 2016/2017)
// versus Madry et al.'s PGD-trained MNIST model.
const distilled = model(
  {
    fgsm: attack('fgsm', { successRate: 0.05, robustAccuracy: 0.94, meanIterations: 1 }),
    pgd: attack('pgd', { successRate: 0.02, robustAccuracy: 0.97 }),
    cw: attack('cw', { norm: 'l2', epsilon: null, successRate: 1, robustAccuracy: 0, budgets: [{ norm: 'linf', epsilon: 0.3, successRate: 0.96, robustAccuracy: 0.04 }] }),
  },
  [0.97, 0.96, 0.95, 0.95],
  [0, 0, 0, 0, 0, 0, 1e-30, 0, 0, 2e-25],
);
const pgdTrained = model(
  {
    fgsm: attack('fgsm', { successRate: 0.04, robustAccuracy: 0.95, meanIterations: 1 }),
    pgd: attack('pgd', { successRate: 0.08, robustAccuracy: 0.91 }),
    'pgd-margin': attack('pgd', { params: { loss: 'margin' }, successRate: 0.1, robustAccuracy: 0.89 }),
    cw: attack('cw', { norm: 'l2', epsilon: null, successRate: 1, robustAccuracy: 0, budgets: [{ norm: 'linf', epsilon: 0.3, successRate: 0.09, robustAccuracy: 0.9 }] }),
  },
  [0.95, 0.9, 0.2, 0],
  [0.5, 1.2, 0.8, 2.1, 0.3, 0.9, 1.5, 0.7, 0.4, 1.1],
);

describe('gradient-masking diagnostics', () => {
  it('flags defensive distillation: PGD weaker than FGSM, no convergence at ε = 1, C&W far stronger, vanishing gradients', () => {
    const ids = diagnose(distilled).filter((d) => d.severity === 'warning').map((d) => d.id);
    expect(ids).toEqual(['iterative-weaker-than-single-step', 'no-convergence-at-large-epsilon', 'stronger-attack-gap', 'vanishing-gradients']);
    const gap = diagnose(distilled).find((d) => d.id === 'stronger-attack-gap')!;
    expect(gap.evidence).toMatchObject({ referenceSuccessRate: 0.02, strongerSuccessRate: 0.96, epsilon: 0.3 });
  });

  it('does not flag a PGD-trained model', () => {
    const diagnostics = diagnose(pgdTrained);
    expect(hasMaskingWarning(diagnostics)).toBe(false);
    expect(diagnostics.every((d) => d.severity === 'info')).toBe(true);
  });

  it('thresholds are parameters: a looser gap silences check 3, a stricter gradient floor raises check 4', () => {
    expect(diagnose(distilled, { strongerAttackGap: 0.99 }).some((d) => d.id === 'stronger-attack-gap' && d.severity === 'warning')).toBe(false);
    expect(diagnose(pgdTrained, { vanishingGradientNorm: 10 }).some((d) => d.id === 'vanishing-gradients')).toBe(true);
  });

  it('reports non-monotonic sweeps and says when a check could not run', () => {
    const bumpy = model({}, [0.5, 0.2, 0.6, 0], [1, 1]);
    expect(diagnose(bumpy).find((d) => d.id === 'non-monotonic-epsilon-sweep')?.severity).toBe('warning');
    const bare: ModelResults = { ...bumpy, epsilonSweep: undefined };
    const info = diagnose(bare).filter((d) => d.severity === 'info').map((d) => d.id);
    expect(info).toContain('no-convergence-at-large-epsilon');
    expect(info).toContain('iterative-weaker-than-single-step');
  });
});
