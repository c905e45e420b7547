import type { JsBreakdown } from '../measure/js-profile';
import type { ModelResults, Sharing } from '../results';
import type { ScalingPoint } from '../scenarios/scaling';
import type { WarmSet } from '../scenarios/sets';
import { median } from './format';

/** Numbers the tables, the plot and the targets share, computed one way. */

export function warmSets(m: ModelResults, sharing: Sharing): WarmSet[] {
  return m.sets.cold[sharing].flatMap((reply) => reply.result.warm);
}

export function callMedian(m: ModelResults, unet: keyof ModelResults['calls']): number {
  return median(m.calls[unet].result.callsMs);
}

export function warmSetMedian(m: ModelResults, sharing: Sharing): number {
  return median(warmSets(m, sharing).map((s) => s.wallMs));
}

/** Share of warm StyleAligned sets' wall time inside ONNX Runtime (medians of per-set shares). */
export function ortShare(m: ModelResults): number {
  return median(warmSets(m, 'shared').map((s) => s.ortMs / s.wallMs));
}

export function daemonOrtShare(m: ModelResults): number {
  const { wallsMs, ortMs } = m.daemon.result;
  return ortMs / wallsMs.reduce((a, b) => a + b, 0);
}

/** The profiled set's main-thread time by category (in-process, StyleAligned, warm). */
export function jsProfile(m: ModelResults): { wallMs: number; breakdown: JsBreakdown } | undefined {
  return m.sets.cold.shared[0]?.result.profile;
}

/** Milliseconds per target image (the reference is the set's fixed cost, like its text encoding). */
export function perTarget(point: ScalingPoint): number[] {
  return point.setsMs.map((wall) => wall / point.targets);
}

/** Chunked points, with the sizes that fit one chunk taken from one batch (they run identically). */
export function chunkedPoints(m: ModelResults): ScalingPoint[] {
  const chunked = m.scaling.chunked.result;
  return m.scaling['one-batch'].result.map((p) => chunked.find((c) => c.targets === p.targets) ?? p);
}

/**
 * The inversion's cost is the first set's time less the second's: the two differ only in it. (The
 * engine's phase timings start a phase at its first progress event, which comes after its first
 * step, so they move one U-Net call into the phase before.)
 */
export function inversionMedians(m: ModelResults): { firstMs: number; secondMs: number; inversionMs: number; secondInverted: boolean } {
  const runs = m.inversion.map((r) => r.result);
  return {
    firstMs: median(runs.map((r) => r.first.wallMs)),
    secondMs: median(runs.map((r) => r.second.wallMs)),
    inversionMs: median(runs.map((r) => r.first.wallMs - r.second.wallMs)),
    secondInverted: runs.some((r) => r.second.phases.inverting !== undefined),
  };
}
