import type { JsBreakdown } from '../measure/js-profile';
import type { ModelResults, PlainVsExport, Sharing } from '../results';
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

/**
 * A set's wall time in three parts: inside ONNX Runtime; JavaScript (the event loop busy outside
 * ONNX Runtime's runs); waiting (the event loop idle: on files, and through the daemon on the client).
 */
export interface TimeShares {
  ort: number;
  js: number;
  waiting: number;
}

/** Warm in-process StyleAligned sets: medians of the per-set shares. */
export function inProcessShares(m: ModelResults): TimeShares {
  const sets = warmSets(m, 'shared');
  return {
    ort: median(sets.map((s) => s.ortMs / s.wallMs)),
    js: median(sets.map((s) => (s.loopBusyMs - s.ortMs) / s.wallMs)),
    // Busy and wall time come from two clocks: a set that never waited can read a hair below 0.
    waiting: median(sets.map((s) => Math.max(0, 1 - s.loopBusyMs / s.wallMs))),
  };
}

/** The sets through the daemon, all together. */
export function daemonShares(m: ModelResults): TimeShares {
  const { wallsMs, ortMs, loopBusyMs } = m.daemon.result;
  const wall = wallsMs.reduce((a, b) => a + b, 0);
  return { ort: ortMs / wall, js: (loopBusyMs - ortMs) / wall, waiting: Math.max(0, 1 - loopBusyMs / wall) };
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
  return withOneBatch(m, m.scaling.chunked.result);
}

/** The engine's default batching, with the sizes it runs in one batch taken from one batch. */
export function defaultBatchingPoints(m: ModelResults): ScalingPoint[] {
  // Results of runs before the default series existed have none: one batch was the default then.
  return withOneBatch(m, m.scaling.default?.result ?? []);
}

function withOneBatch(m: ModelResults, measured: ScalingPoint[]): ScalingPoint[] {
  return m.scaling['one-batch'].result.map((p) => measured.find((c) => c.targets === p.targets) ?? p);
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

/**
 * How much faster plain generation's call is than the export's: the medians of all their calls,
 * and per pair of processes run one after the other (the pairs show how far load moved it).
 */
export function plainSpeedup(p: PlainVsExport, clock: 'wall' | 'cpu' = 'wall'): { overall: number; pairs: number[] } {
  const times = (r: PlainVsExport['plain'][number]) => (clock === 'cpu' ? (r.result.callsCpuMs ?? []) : r.result.callsMs);
  const all = (runs: PlainVsExport['plain']) => median(runs.flatMap(times));
  return {
    overall: all(p.export) / all(p.plain),
    pairs: p.plain.map((plain, i) => median(times(p.export[i])) / median(times(plain))),
  };
}

/** Whether every process of the comparison measured its CPU time (runs before it did not). */
export function hasCpuTimes(p: PlainVsExport): boolean {
  return [...p.export, ...p.plain].every((r) => (r.result.callsCpuMs?.length ?? 0) > 0);
}

/**
 * The memory estimate of a model against the peaks its one-batch scaling points measured: MiB per
 * row, overall (smallest to largest set) and between consecutive sizes, and the largest set's peak
 * as the estimate predicts it from the smallest's. Undefined without an estimate or two points.
 */
export function memoryGrowth(m: ModelResults):
  | { estimateMiB: number; overallMiB: number; steps: number[]; predictedPeakMiB: number; measuredPeakMiB: number }
  | undefined {
  const estimate = m.memoryEstimate;
  const points = m.scaling['one-batch'].result;
  if (!estimate || points.length < 2) return undefined;
  const rows = (p: ScalingPoint) => (p.targets + 1) * estimate.rowsPerImage;
  const slope = (a: ScalingPoint, b: ScalingPoint) => (b.peakRssMiB - a.peakRssMiB) / (rows(b) - rows(a));
  const [first, last] = [points[0], points[points.length - 1]];
  const estimateMiB = estimate.rowBytes / 2 ** 20;
  return {
    estimateMiB,
    overallMiB: slope(first, last),
    steps: points.slice(1).map((p, i) => slope(points[i], p)),
    predictedPeakMiB: first.peakRssMiB + estimateMiB * (rows(last) - rows(first)),
    measuredPeakMiB: last.peakRssMiB,
  };
}
