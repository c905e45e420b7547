import type { Phase } from '@styleset/protocol';

/**
 * Where each phase sits on one bar from 0 to 1. Denoising is most of a job's time; a phase a job
 * skips (loading a model already in memory, inverting without a reference image) is jumped over.
 */
const SPANS: Record<Phase, readonly [number, number]> = {
  loading: [0, 0.1],
  encoding: [0.1, 0.15],
  inverting: [0.15, 0.25],
  denoising: [0.25, 0.9],
  decoding: [0.9, 1],
};

export function progressFraction(phase: Phase, step: number, total: number): number {
  const [start, end] = SPANS[phase];
  return start + (end - start) * Math.min(1, step / total);
}
