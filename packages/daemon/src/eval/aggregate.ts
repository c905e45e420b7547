export interface Summary {
  mean: number;
  /** Sample standard deviation over sets; 0 for a single set. */
  std: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: 0, std: 0, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/** A per-set comparison of two conditions run on the same sets (same prompts and seeds). */
export interface PairedComparison {
  /** Sets where `a` scored higher than `b`. */
  wins: number;
  n: number;
  /** Mean and spread of a - b over sets. */
  difference: Summary;
}

export function comparePaired(a: readonly number[], b: readonly number[]): PairedComparison {
  if (a.length !== b.length) throw new Error(`paired comparison needs the same sets on both sides (${a.length} vs ${b.length})`);
  const diffs = a.map((v, i) => v - b[i]);
  return { wins: diffs.filter((d) => d > 0).length, n: diffs.length, difference: summarize(diffs) };
}
