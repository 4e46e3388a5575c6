/** Spec-only plain-JS reference math (no tfjs), for hand-computed expectations. */
export function softmax(row: readonly number[], temperature = 1): number[] {
  const scaled = row.map((v) => v / temperature);
  const max = Math.max(...scaled);
  const exps = scaled.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** KL(p ‖ q) = Σ p log(p / q) over one row. */
export function kl(p: readonly number[], q: readonly number[]): number {
  let sum = 0;
  for (let j = 0; j < p.length; j++) if (p[j]! > 0) sum += p[j]! * Math.log(p[j]! / q[j]!);
  return sum;
}

export function crossEntropyRow(logits: readonly number[], label: number): number {
  return -Math.log(softmax(logits)[label]!);
}

export function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Central finite differences of f at x (flat), step h. */
export function finiteDifferences(f: (x: number[]) => number, x: readonly number[], h = 1e-2): number[] {
  return x.map((_, i) => {
    const plus = [...x];
    const minus = [...x];
    plus[i]! += h;
    minus[i]! -= h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}
