import { describe, expect, it } from 'vitest';
import {
  diagnose,
  gradientHistogram,
  DEFAULT_HISTOGRAM_AXIS,
  hasMaskingWarning,
  isDegenerate,
  MASKING_CHECK_IDS,
  type AttackSummary,
  type ModelResults,
  type Rerun,
  type ThreatModelResult,
} from './index.js';

const params = { ...DEFAULT_HISTOGRAM_AXIS, temperature: 1, quantity: 'loss' as const, norm: 'l2' as const };
const N = 100;

/** A summary as the built-in attack of that name writes it, its declared traits included. */
function attack(name: string, over: Partial<AttackSummary>): AttackSummary {
  const traits = { blackBox: name === 'square', singleStep: name === 'fgsm', ensemble: name === 'autoattack', blackBoxComponents: name === 'autoattack' ? ['square'] : [] };
  return {
    name, params: {}, traits, mode: 'untargeted', norm: 'linf', kind: 'bounded', epsilon: 0.3, evaluated: N, pairs: N,
    successRate: 0, robustAccuracy: 0.9, meanL0: null, medianL0: null, meanL2: null, medianL2: null, meanLinf: null, medianLinf: null,
    meanIterations: 40, ...over,
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** The L∞ 0.3 threat model with the given examples broken per attack (first breaker in key order). */
function threatModel(broken: Record<string, number[]>, reruns?: Record<string, Rerun>): ThreatModelResult {
  const brokenBy: Array<string | null> = Array.from({ length: N }, () => null);
  for (const [name, examples] of Object.entries(broken)) for (const e of examples) brokenBy[e] ??= name;
  const robust = brokenBy.filter((b) => b === null).length / N;
  return {
    norm: 'linf', epsilon: 0.3, attacks: Object.keys(broken).map((k) => k.split('/')[0]!).filter((k, i, all) => all.indexOf(k) === i), ran: Object.keys(broken),
    evaluated: N, cleanAccuracy: 0.99, robustAccuracy: robust, breakers: {}, brokenBy, broken, perClass: [], worstClass: null, ...(reruns ? { reruns } : {}),
  };
}

function model(attacks: Record<string, AttackSummary>, tm: ThreatModelResult, sweep: number[], gradients: number[], over: Partial<ModelResults> = {}): ModelResults {
  return {
    method: 'x', classes: 10, cleanAccuracy: 0.99, confidence: 0.99, threatModels: { 'linf:0.3': tm }, attacks,
    gradientHistogram: gradientHistogram(gradients, { ...params, quantity: 'probability', norm: 'l1' }),
    lossGradientHistogram: gradientHistogram(gradients, params),
    epsilonSweep: { attack: 'pgd', params: {}, norm: 'linf', evaluated: 50, range: 1, points: sweep.map((r, i) => ({ epsilon: [0.1, 0.3, 0.5, 1][i]!, robustAccuracy: r, successRate: 1 - r })) },
    diagnostics: [], examples: {}, ...over,
  };
}

const flaggedIds = (m: ModelResults, t = {}) => diagnose(m, t).filter((d) => d.status === 'flagged').map((d) => d.id);

// Shapes of the published numbers: defensive distillation at T = 100 on MNIST (Carlini & Wagner 2016/2017)
// versus Madry et al.'s PGD-trained MNIST model.
const distilled = model(
  {
    fgsm: attack('fgsm', { successRate: 0.05, robustAccuracy: 0.94, meanIterations: 1 }),
    pgd: attack('pgd', { successRate: 0.02, robustAccuracy: 0.97 }),
    cw: attack('cw', { norm: 'l2', kind: 'minimum-distortion', epsilon: null, successRate: 1, robustAccuracy: 0, budgets: [{ norm: 'linf', epsilon: 0.3, successRate: 0.96, robustAccuracy: 0.04 }] }),
  },
  threatModel({ fgsm: range(0, 5), pgd: range(3, 5) }),
  [0.97, 0.96, 0.95, 0.95],
  [0, 0, 0, 0, 0, 0, 1e-30, 0, 0, 2e-25],
);
const pgdTrained = model(
  {
    fgsm: attack('fgsm', { successRate: 0.04, robustAccuracy: 0.95, meanIterations: 1 }),
    pgd: attack('pgd', { successRate: 0.08, robustAccuracy: 0.91 }),
    'pgd-margin': attack('pgd', { params: { loss: 'margin' }, successRate: 0.1, robustAccuracy: 0.89 }),
    cw: attack('cw', { norm: 'l2', kind: 'minimum-distortion', epsilon: null, successRate: 1, robustAccuracy: 0, budgets: [{ norm: 'linf', epsilon: 0.3, successRate: 0.09, robustAccuracy: 0.9 }] }),
  },
  threatModel({ pgd: range(0, 8), fgsm: range(0, 4), 'pgd-margin': range(0, 10) }, {
    restart: { attack: 'pgd', change: 'seed', evaluated: N, referenceRobustAccuracy: 0.89, robustAccuracy: 0.91, newlyBroken: 1 },
    moreSteps: { attack: 'pgd', change: 'steps 40 → 80', evaluated: N, referenceRobustAccuracy: 0.89, robustAccuracy: 0.9, newlyBroken: 0 },
    transfer: { attack: 'pgd', change: 'crafted on baseline', evaluated: N, referenceRobustAccuracy: 0.89, robustAccuracy: 0.97, newlyBroken: 0 },
  }),
  [0.95, 0.9, 0.2, 0],
  [0.5, 1.2, 0.8, 2.1, 0.3, 0.9, 1.5, 0.7, 0.4, 1.1],
);

describe('diagnostics', () => {
  it('flags defensive distillation: FGSM breaks what PGD missed, no convergence at ε = 1, C&W far stronger, vanishing gradients', () => {
    expect(flaggedIds(distilled)).toEqual(['iterative-weaker-than-single-step', 'no-convergence-at-large-epsilon', 'stronger-attack-gap', 'vanishing-gradients']);
    const gap = diagnose(distilled).find((d) => d.id === 'stronger-attack-gap')!;
    expect(gap.evidence).toMatchObject({ referenceSuccessRate: 0.02, strongerSuccessRate: 0.96, epsilon: 0.3 });
    expect(diagnose(distilled).find((d) => d.id === 'iterative-weaker-than-single-step')!.evidence).toMatchObject({ examplesOnlySingleStepBroke: 3 });
  });

  it('passes a PGD-trained model, and every check says passed or not run (with why)', () => {
    const diagnostics = diagnose(pgdTrained);
    expect(hasMaskingWarning(diagnostics)).toBe(false);
    expect(diagnostics.every((d) => d.status === 'passed' || d.status === 'not-run')).toBe(true);
    const passedIds = diagnostics.filter((d) => d.status === 'passed').map((d) => d.id);
    for (const id of ['degenerate-model', 'iterative-weaker-than-single-step', 'no-convergence-at-large-epsilon', 'stronger-attack-gap', 'restart-changes-result', 'loss-not-converged', 'transfer-beats-white-box', 'vanishing-gradients']) {
      expect(passedIds, id).toContain(id);
    }
    expect(diagnostics.find((d) => d.id === 'black-box-beats-white-box')).toMatchObject({ status: 'not-run', message: expect.stringMatching(/black-box attack/) });
  });

  it('partial masking does not pass silently: a few FGSM-only breaks and a 15-point margin-loss gap are flagged', () => {
    const partial = model(
      {
        fgsm: attack('fgsm', { successRate: 0.19, robustAccuracy: 0.81 }),
        pgd: attack('pgd', { successRate: 0.2, robustAccuracy: 0.8 }),
        'pgd-margin': attack('pgd', { params: { loss: 'margin' }, successRate: 0.35, robustAccuracy: 0.65 }),
      },
      threatModel({ pgd: range(0, 20), fgsm: [...range(0, 14), ...range(90, 95)], 'pgd-margin': range(0, 35) }),
      [0.9, 0.6, 0.2, 0],
      [0.5, 1, 2],
    );
    // Averages agree within 1 point, but 5 % of the examples fall to FGSM and not to PGD.
    expect(flaggedIds(partial)).toEqual(['iterative-weaker-than-single-step', 'stronger-attack-gap']);
    expect(flaggedIds(partial, { iterativeTolerance: 0.05, strongerAttackGap: 0.2 })).toEqual([]);
  });

  it('flags a black-box attack or a transfer/restart re-run that breaks what white-box attacks left robust', () => {
    const masked = model(
      { pgd: attack('pgd', { robustAccuracy: 0.9 }), aa: attack('autoattack', { robustAccuracy: 0.7, ran: ['apgd-ce', 'square'] }) },
      threatModel({ pgd: range(0, 10), 'aa/apgd-ce': range(0, 10), 'aa/square': range(10, 30) }, {
        restart: { attack: 'pgd', change: 'seed', evaluated: N, referenceRobustAccuracy: 0.7, robustAccuracy: 0.86, newlyBroken: 5 },
        moreSteps: { attack: 'pgd', change: 'steps 40 → 80', evaluated: N, referenceRobustAccuracy: 0.7, robustAccuracy: 0.9, newlyBroken: 0 },
        transfer: { attack: 'pgd', change: 'crafted on baseline', evaluated: N, referenceRobustAccuracy: 0.7, robustAccuracy: 0.6, newlyBroken: 3 },
      }),
      [0.9, 0.6, 0.2, 0],
      [0.5, 1, 2],
    );
    expect(flaggedIds(masked)).toEqual(['black-box-beats-white-box', 'restart-changes-result', 'transfer-beats-white-box']);
    expect(diagnose(masked).find((d) => d.id === 'black-box-beats-white-box')!.evidence).toMatchObject({ examplesOnlyBlackBoxBroke: 20, blackBoxAttacks: 'aa/square' });
    expect(flaggedIds(masked, { blackBoxTolerance: 0.25, restartTolerance: 0.05, transferTolerance: 0.05 })).toEqual([]);
  });

  it('zero or non-finite gradients are flagged even when most gradients are healthy', () => {
    const healthy = Array.from({ length: 40 }, () => 0.5);
    const someZero = model({}, threatModel({}), [0.5, 0.2, 0.1, 0], [...healthy.slice(3), 0, 0, 0]);
    const someNaN = model({}, threatModel({}), [0.5, 0.2, 0.1, 0], [...healthy.slice(1), Number.NaN]);
    expect(flaggedIds(someZero)).toEqual(['vanishing-gradients']);
    expect(flaggedIds(someNaN)).toEqual(['vanishing-gradients']);
    expect(flaggedIds(model({}, threatModel({}), [0.5, 0.2, 0.1, 0], healthy))).toEqual([]);
  });

  it('a model at chance is degenerate and gets no masking verdict', () => {
    const stuck = { ...distilled, cleanAccuracy: 0.117 };
    const diagnostics = diagnose(stuck);
    expect(isDegenerate(diagnostics)).toBe(true);
    expect(hasMaskingWarning(diagnostics)).toBe(false);
    expect(diagnostics.filter((d) => d.status === 'flagged').map((d) => d.id)).toEqual(['degenerate-model']);
    expect(diagnostics.filter((d) => d.status === 'not-run').map((d) => d.id)).toEqual([...MASKING_CHECK_IDS]);
    // The same numbers on a model that learned are a masking verdict.
    expect(isDegenerate(diagnose(distilled))).toBe(false);
    expect(isDegenerate(diagnose({ ...distilled, cleanAccuracy: 0.25 }, { degenerateMargin: 0.2 }))).toBe(true);
  });

  it('reports non-monotonic sweeps and says when a check could not run', () => {
    const bumpy = model({}, threatModel({}), [0.5, 0.2, 0.6, 0], [1, 1]);
    expect(diagnose(bumpy).find((d) => d.id === 'non-monotonic-epsilon-sweep')?.status).toBe('flagged');
    const bare: ModelResults = { ...bumpy, epsilonSweep: undefined };
    const notRun = diagnose(bare).filter((d) => d.status === 'not-run').map((d) => d.id);
    expect(notRun).toEqual(expect.arrayContaining(['no-convergence-at-large-epsilon', 'iterative-weaker-than-single-step', 'restart-changes-result', 'black-box-beats-white-box']));
  });
});
