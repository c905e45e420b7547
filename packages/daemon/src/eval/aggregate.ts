import type { SetScores } from './metrics';
import { STYLE_PARTS, type StylePart } from './style';

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

export const SCORE_KEYS = ['accuracy', 'iou', 'consistency', 'referenceSimilarity', 'leakage'] as const satisfies readonly (keyof SetScores)[];
export type ScoreKey = (typeof SCORE_KEYS)[number];

export type ScoresSummary = Record<ScoreKey, Summary> & { consistencyParts: Record<StylePart, Summary> };

export function summarizeSets(sets: readonly SetScores[]): ScoresSummary {
  const consistencyParts = {} as Record<StylePart, Summary>;
  for (const part of STYLE_PARTS) consistencyParts[part] = summarize(sets.map((s) => s.consistencyParts[part]));
  const out = { consistencyParts } as ScoresSummary;
  for (const key of SCORE_KEYS) out[key] = summarize(sets.map((s) => s[key]));
  return out;
}

/** A per-set comparison of two conditions run on the same sets (same prompts and seeds). */
export interface PairedComparison {
  /** Sets where `a` scored higher than `b`. */
  wins: number;
  n: number;
  /** Mean and spread of a - b over sets. */
  difference: Summary;
}

export function comparePaired(a: readonly SetScores[], b: readonly SetScores[], key: ScoreKey): PairedComparison {
  if (a.length !== b.length) throw new Error(`paired comparison needs the same sets on both sides (${a.length} vs ${b.length})`);
  const diffs = a.map((s, i) => s[key] - b[i][key]);
  return { wins: diffs.filter((d) => d > 0).length, n: diffs.length, difference: summarize(diffs) };
}

/**
 * Where a consistency lies between chance (renderer icons in independent random styles: 0) and
 * perfect sharing (renderer icons all in one style: 1). Undefined when the two anchors coincide.
 */
export function normalizedConsistency(value: number, chance: number, perfect: number): number | undefined {
  return perfect > chance ? (value - chance) / (perfect - chance) : undefined;
}
