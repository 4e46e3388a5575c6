import type { Norm } from '@tempered/core';
import type { AttackRecord } from '@tempered/attacks';
import type { AttackSummary, BudgetedSuccess, ThreatModelResult } from '@tempered/reports';
import { rateInterval } from '@tempered/reports';

function distanceIn(row: AttackRecord, norm: Norm): number {
  return norm === 'l0' ? row.l0 : norm === 'l2' ? row.l2 : row.linf;
}

/**
 * Success of an untargeted minimum-distortion attack (C&W) within each threat model's budget:
 * a row counts only if its perturbation fits the (norm, ε) ball. The table says how a
 * minimum-distortion attack compares with the bounded ones without entering their worst case.
 */
export function budgetTable(rows: readonly AttackRecord[], threatModels: Readonly<Record<string, ThreatModelResult>>, count: number): BudgetedSuccess[] {
  const attackable = rows.filter((r) => r.attackable);
  const list: BudgetedSuccess[] = [];
  for (const { norm, epsilon } of Object.values(threatModels)) {
    const tolerance = 1e-5 * Math.max(1, epsilon);
    const within = (row: AttackRecord) => row.attackable && row.success && distanceIn(row, norm) <= epsilon + tolerance;
    const fooled = new Set(rows.filter(within).map((r) => r.example));
    const robust = new Set(attackable.map((r) => r.example).filter((e) => !fooled.has(e)));
    const successRate = attackable.length === 0 ? null : attackable.filter(within).length / attackable.length;
    const robustAccuracy = count === 0 ? null : robust.size / count;
    list.push({
      norm,
      epsilon,
      successRate,
      successRateInterval: rateInterval(successRate, attackable.length),
      robustAccuracy,
      robustAccuracyInterval: rateInterval(robustAccuracy, count),
    });
  }
  return list;
}

/** Adds {@link budgetTable} to every untargeted minimum-distortion attack's summary. */
export function addBudgets(
  attacks: Record<string, AttackSummary>,
  rowsByKey: ReadonlyMap<string, readonly AttackRecord[]>,
  threatModels: Readonly<Record<string, ThreatModelResult>>,
  count: number,
): void {
  if (Object.keys(threatModels).length === 0) return;
  for (const [key, summary] of Object.entries(attacks)) {
    if (summary.kind !== 'minimum-distortion' || summary.mode !== 'untargeted') continue;
    attacks[key] = { ...summary, budgets: budgetTable(rowsByKey.get(key) ?? [], threatModels, count) };
  }
}
