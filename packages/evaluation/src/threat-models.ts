import type { Norm } from '@tempered/core';
import type { AttackRecord } from '@tempered/attacks';
import { threatModelKey, type ClassAccuracy, type ThreatModelResult } from '@tempered/reports';
import { rateInterval } from '@tempered/reports';

/**
 * Threat models as AutoAttack and RobustBench count them (Croce & Hein, ICML 2020): the robust
 * accuracy of a model under a (norm, ε) threat model is the share of examples classified
 * correctly on the clean input and on every adversarial row of every attack of that threat
 * model — a per-example worst case, never mixed across norms or budgets and never including
 * minimum-distortion attacks (C&W, JSMA), whose success within a budget is reported apart.
 */

/** One attack run as the threat models see it: its per-example records and where it belongs. */
export interface AttackRun {
  /** Key in `attacks`. */
  readonly key: string;
  readonly norm: Norm;
  /** Budget of a bounded attack; null for a minimum-distortion attack (skipped here). */
  readonly epsilon: number | null;
  readonly rows: readonly AttackRecord[];
  /** Ensembles: per row, the component attack that broke it (AttackResult.brokenBy). */
  readonly components?: readonly (string | null)[];
  /** Ensembles: the component attacks that ran. */
  readonly ran?: readonly string[];
}

/** The examples' labels and clean correctness, by position 0 … N − 1. */
export interface CleanOutcome {
  readonly labels: Int32Array;
  readonly correct: ArrayLike<boolean>;
  readonly classes: number;
}

/** Name under which a row's breaker is recorded: the ensemble component when the attack named one. */
function breakerOf(record: AttackRun, row: number): string {
  const component = record.components?.[row];
  return component ? `${record.key}/${component}` : record.key;
}

/** Per-class clean and robust accuracy; the worst class is the one with the lowest robust accuracy. */
export function perClassAccuracy(clean: CleanOutcome, robust: ArrayLike<boolean>): { perClass: ClassAccuracy[]; worstClass: ThreatModelResult['worstClass'] } {
  const perClass: ClassAccuracy[] = [];
  for (let label = 0; label < clean.classes; label++) {
    let examples = 0;
    let correct = 0;
    let kept = 0;
    for (let i = 0; i < clean.labels.length; i++) {
      if (clean.labels[i] !== label) continue;
      examples++;
      if (clean.correct[i]) correct++;
      if (robust[i]) kept++;
    }
    const robustAccuracy = examples === 0 ? null : kept / examples;
    perClass.push({
      label,
      examples,
      cleanAccuracy: examples === 0 ? null : correct / examples,
      robustAccuracy,
      robustAccuracyInterval: rateInterval(robustAccuracy, examples),
    });
  }
  let worstClass: ThreatModelResult['worstClass'] = null;
  for (const c of perClass) {
    if (c.robustAccuracy === null) continue;
    if (worstClass === null || c.robustAccuracy < worstClass.robustAccuracy!) worstClass = { label: c.label, robustAccuracy: c.robustAccuracy };
  }
  return { perClass, worstClass };
}

/**
 * Groups the bounded attacks by (norm, ε) and computes, per threat model, the per-example worst
 * case: which attack broke each example first (in run order; ensembles name their component),
 * the examples each attack broke, robust accuracy with its 95 % Wilson interval, and per class.
 */
/** Clean accuracy: the share of examples classified correctly (0 for none). Computed here once for the model and its threat models. */
export function cleanAccuracyOf(clean: Pick<CleanOutcome, 'correct'>): number {
  const n = clean.correct.length;
  let correct = 0;
  for (let i = 0; i < n; i++) if (clean.correct[i]) correct++;
  return n === 0 ? 0 : correct / n;
}

/**
 * The per-example worst case of attack runs: an example is broken by the first row (in run order)
 * that moved its correctly classified clean input off the label; misclassified ones are broken by
 * 'clean'. The one computation behind a threat model's robust accuracy and an attack's own.
 */
export function worstCase(group: readonly AttackRun[], cleanCorrect: ArrayLike<boolean>): { brokenBy: Array<string | null>; broken: Record<string, Set<number>>; ran: string[]; robustAccuracy: number | null } {
  const n = cleanCorrect.length;
  const brokenBy: Array<string | null> = Array.from({ length: n }, (_, i) => (cleanCorrect[i] ? null : 'clean'));
  const broken: Record<string, Set<number>> = {};
  const ran: string[] = [];
  for (const record of group) {
    for (const name of record.ran ? record.ran.map((c) => `${record.key}/${c}`) : [record.key]) if (!ran.includes(name)) ran.push(name);
    record.rows.forEach((row, r) => {
      if (!row.attackable || row.robust || row.example < 0 || row.example >= n) return;
      const name = breakerOf(record, r);
      (broken[name] ??= new Set()).add(row.example);
      brokenBy[row.example] ??= name;
    });
  }
  const robustAccuracy = n === 0 ? null : brokenBy.filter((b) => b === null).length / n;
  return { brokenBy, broken, ran, robustAccuracy };
}

export function computeThreatModels(records: readonly AttackRun[], clean: CleanOutcome): Record<string, ThreatModelResult> {
  const groups = new Map<string, AttackRun[]>();
  for (const record of records) {
    if (record.epsilon === null || !Number.isFinite(record.epsilon)) continue;
    const key = threatModelKey(record.norm, record.epsilon);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const n = clean.labels.length;
  const cleanCorrect = Array.from({ length: n }, (_, i) => Boolean(clean.correct[i]));
  const cleanAccuracy = cleanAccuracyOf({ correct: cleanCorrect });
  const out: Record<string, ThreatModelResult> = {};
  for (const [key, group] of groups) {
    const { brokenBy, broken, ran, robustAccuracy } = worstCase(group, cleanCorrect);
    const breakers: Record<string, number> = {};
    for (const name of brokenBy) if (name !== null) breakers[name] = (breakers[name] ?? 0) + 1;
    const robust = brokenBy.map((b) => b === null);
    out[key] = {
      norm: group[0]!.norm,
      epsilon: group[0]!.epsilon!,
      attacks: group.map((r) => r.key),
      ran,
      evaluated: n,
      cleanAccuracy,
      cleanAccuracyInterval: rateInterval(cleanAccuracy, n),
      robustAccuracy,
      robustAccuracyInterval: rateInterval(robustAccuracy, n),
      breakers,
      brokenBy,
      broken: Object.fromEntries(Object.entries(broken).map(([name, set]) => [name, [...set].sort((a, b) => a - b)])),
      ...perClassAccuracy(clean, robust),
    };
  }
  return out;
}
