import type { Diagnostic, ModelResults } from '../schema.js';
import {
  DEFAULT_DIAGNOSTIC_THRESHOLDS,
  brokenByAny,
  flagged,
  fmt,
  isBlackBoxRun,
  isCrossEntropyIterative,
  isIterative,
  isMarginLoss,
  isSingleStep,
  notRun,
  passed,
  sameBudget,
  threatModelsOf,
  SAME_EPSILON,
  type Entry,
} from './common.js';

/**
 * Checks that compare attacks, from Athalye, Carlini & Wagner, "Obfuscated Gradients Give a
 * False Sense of Security" (ICML 2018), Carlini et al., "On Evaluating Adversarial Robustness"
 * (2019), and Pintor et al., "Indicators of Attack Failure" (NeurIPS 2022). Per-example where
 * the threat model kept which attack broke which example, so partial masking does not hide in
 * an average.
 */

const ITERATIVE = 'iterative-weaker-than-single-step';

/** FGSM (single step) breaks examples that every iterative attack of the same threat model left robust. */
export function checkIterativeVersusSingleStep(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const entries = Object.entries(model.attacks).filter(([, a]) => a.mode === 'untargeted');
  const out: Diagnostic[] = [];
  let pairs = 0;
  for (const [tmKey, tm] of threatModelsOf(model)) {
    const inModel = entries.filter(([key]) => tm.attacks.includes(key));
    const singles = inModel.filter(isSingleStep);
    const iteratives = inModel.filter(isIterative);
    if (singles.length === 0 || iteratives.length === 0) continue;
    for (const single of singles) {
      pairs++;
      const byIterative = brokenByAny(tm, iteratives.map(([k]) => k));
      const bySingle = brokenByAny(tm, [single[0]]);
      const missed = byIterative && bySingle ? [...bySingle].filter((e) => !byIterative.has(e)).length : null;
      const bestIterative = Math.min(...iteratives.map(([, a]) => a.robustAccuracy ?? 1));
      const gap = missed !== null ? missed / tm.evaluated : bestIterative - (single[1].robustAccuracy ?? 0);
      const evidence = {
        threatModel: tmKey,
        singleStepAttack: single[0],
        iterativeAttacks: iteratives.map(([k]) => k).join(', '),
        singleStepRobustAccuracy: single[1].robustAccuracy,
        iterativeRobustAccuracy: bestIterative,
        examplesOnlySingleStepBroke: missed,
        tolerance: thresholds.iterativeTolerance,
      };
      if (gap > thresholds.iterativeTolerance) {
        out.push(
          flagged(
            ITERATIVE,
            `${single[0]} (one step) breaks ${missed ?? 'more'} example(s) that ${evidence.iterativeAttacks} (iterative) left robust at ${tmKey} ` +
              `(robust accuracy ${fmt(single[1].robustAccuracy)} vs ${fmt(bestIterative)}): an iterative attack should find everything one step finds; ` +
              'the loss surface is masked or the iterative attack is misconfigured.',
            evidence,
          ),
        );
      } else out.push(passed(ITERATIVE, `at ${tmKey}, ${evidence.iterativeAttacks} finds what ${single[0]} finds`, evidence));
    }
  }
  if (pairs === 0) return [notRun(ITERATIVE, 'no single-step (FGSM) and iterative attack share a threat model')];
  return out;
}

const STRONGER = 'stronger-attack-gap';

/** C&W (within ε) or a margin-loss PGD far stronger than cross-entropy PGD at the same budget. */
export function checkStrongerAttacks(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const entries = Object.entries(model.attacks);
  const out: Diagnostic[] = [];
  let comparisons = 0;
  const compare = (reference: Entry, strongName: string, strongSuccess: number | null, strongAccuracy: number | null) => {
    const [refName, ref] = reference;
    if (ref.successRate === null || strongSuccess === null) return;
    comparisons++;
    const successGap = strongSuccess - ref.successRate;
    const accuracyGap = ref.robustAccuracy !== null && strongAccuracy !== null ? ref.robustAccuracy - strongAccuracy : null;
    const evidence = {
      referenceAttack: refName, strongerAttack: strongName, norm: ref.norm, epsilon: ref.epsilon,
      referenceSuccessRate: ref.successRate, strongerSuccessRate: strongSuccess,
      referenceRobustAccuracy: ref.robustAccuracy, strongerRobustAccuracy: strongAccuracy, gap: thresholds.strongerAttackGap,
    };
    if (successGap > thresholds.strongerAttackGap || (accuracyGap !== null && accuracyGap > thresholds.strongerAttackGap)) {
      out.push(
        flagged(
          STRONGER,
          `${strongName} succeeds on ${fmt(strongSuccess)} of the examples but cross-entropy ${refName} on only ${fmt(ref.successRate)} ` +
            `within the same ${ref.norm} ε = ${ref.epsilon}: the cross-entropy gradient is uninformative (e.g. saturated softmax), ` +
            'so robustness measured with it is overstated.',
          evidence,
        ),
      );
    } else out.push(passed(STRONGER, `${strongName} and ${refName} agree within ${fmt(thresholds.strongerAttackGap)}`, evidence));
  };
  for (const reference of entries.filter(isCrossEntropyIterative)) {
    for (const strong of entries) {
      if (strong[1].mode !== 'untargeted') continue;
      if (isMarginLoss(strong) && sameBudget(reference[1], strong[1])) compare(reference, strong[0], strong[1].successRate, strong[1].robustAccuracy);
      for (const budget of strong[1].budgets ?? []) {
        if (budget.norm === reference[1].norm && Math.abs(budget.epsilon - reference[1].epsilon!) < SAME_EPSILON) {
          compare(reference, `${strong[0]} (within ε)`, budget.successRate, budget.robustAccuracy);
        }
      }
    }
  }
  if (comparisons === 0) return [notRun(STRONGER, 'no C&W or margin-loss attack to compare with cross-entropy PGD at the same budget')];
  return out;
}

const BLACK_BOX = 'black-box-beats-white-box';

/** A score-based black-box attack (Square) breaks examples every white-box attack left robust. */
export function checkBlackBox(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [tmKey, tm] of threatModelsOf(model)) {
    const names = tm.ran.filter((name) => name !== 'clean');
    const isBlack = (name: string) => isBlackBoxRun(name, model.attacks);
    const black = names.filter(isBlack);
    const white = names.filter((name) => !isBlack(name));
    if (black.length === 0 || white.length === 0) continue;
    const byWhite = brokenByAny(tm, white);
    const byBlack = brokenByAny(tm, black);
    if (!byWhite || !byBlack) continue;
    const only = [...byBlack].filter((e) => !byWhite.has(e)).length;
    const evidence = { threatModel: tmKey, blackBoxAttacks: black.join(', '), whiteBoxAttacks: white.join(', '), examplesOnlyBlackBoxBroke: only, evaluated: tm.evaluated, tolerance: thresholds.blackBoxTolerance };
    if (only > thresholds.blackBoxTolerance * tm.evaluated) {
      out.push(
        flagged(
          BLACK_BOX,
          `at ${tmKey}, ${black.join(', ')} (black-box, no gradients) breaks ${only} of ${tm.evaluated} examples that ${white.join(', ')} (white-box) left robust: ` +
            'the gradients mislead the white-box attacks (gradient masking), so their robust accuracy is overstated.',
          evidence,
        ),
      );
    } else out.push(passed(BLACK_BOX, `at ${tmKey}, the black-box attack finds nothing the white-box attacks missed`, evidence));
  }
  return out.length > 0 ? out : [notRun(BLACK_BOX, 'no threat model ran both a black-box attack (square, or autoattack with square) and a white-box one')];
}

const RERUNS = [
  { id: 'restart-changes-result', rerun: 'restart', tolerance: 'restartTolerance', what: 'another random start', against: 'the attack itself', meaning: 'the result depends on the start: add restarts until it stops changing' },
  { id: 'loss-not-converged', rerun: 'moreSteps', tolerance: 'moreStepsTolerance', what: 'twice the steps', against: 'the attack itself', meaning: 'the attack had not converged: its last steps were still moving; use more steps or a larger step size' },
  { id: 'transfer-beats-white-box', rerun: 'transfer', tolerance: 'transferTolerance', what: 'adversarials transferred from a cleanly trained model', against: 'every white-box attack', meaning: 'a black-box transfer attack beats the white-box one, a hallmark of gradient masking' },
] as const;

/** Re-runs (another start, more steps, transfer from a cleanly trained model) that break what the threat model's attacks left robust. */
export function checkReruns(model: ModelResults, thresholds = DEFAULT_DIAGNOSTIC_THRESHOLDS): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const spec of RERUNS) {
    let ran = 0;
    for (const [tmKey, tm] of threatModelsOf(model)) {
      const rerun = tm.reruns?.[spec.rerun];
      if (!rerun) continue;
      ran++;
      const tolerance = thresholds[spec.tolerance];
      const evidence = {
        threatModel: tmKey, attack: rerun.attack, change: rerun.change, evaluated: rerun.evaluated,
        referenceRobustAccuracy: rerun.referenceRobustAccuracy, rerunRobustAccuracy: rerun.robustAccuracy, newlyBroken: rerun.newlyBroken,
        beyondWorstCase: rerun.beyondWorstCase ?? null, tolerance,
      };
      if (rerun.newlyBroken > tolerance * rerun.evaluated) {
        out.push(
          flagged(
            spec.id,
            `at ${tmKey}, ${rerun.attack} with ${spec.what} (${rerun.change}) breaks ${rerun.newlyBroken} of ${rerun.evaluated} examples ${spec.against} left robust ` +
              `(${rerun.beyondWorstCase ?? 'n/a'} of them robust under every attack of the threat model): ${spec.meaning}.`,
            evidence,
          ),
        );
      } else out.push(passed(spec.id, `at ${tmKey}, ${rerun.attack} with ${spec.what} (${rerun.change}): ${rerun.newlyBroken} more of ${rerun.evaluated} examples broken`, evidence));
    }
    if (ran === 0) {
      const needs = spec.rerun === 'transfer'
        ? ', and a transfer source other than this model: evaluation.transferFrom, by default the first model whose method declares it trains without a teacher and without adversarial examples'
        : '';
      out.push(notRun(spec.id, `no re-run with ${spec.what} (needs an untargeted iterative bounded attack${needs})`));
    }
  }
  return out;
}
