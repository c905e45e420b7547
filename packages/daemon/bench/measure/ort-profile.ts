import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** One `X` event of ONNX Runtime's profile (Chrome trace format), times in microseconds. */
interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

export interface OpProfile {
  /** Sum of the analysed runs' `model_run` durations, ms. */
  runMs: number;
  /** Exclusive kernel time per operator type, ms, largest first. */
  byOp: Array<{ op: string; ms: number }>;
  /** Exclusive kernel time of the nodes the shared-attention rewrite added or moved (`.../styleset/...`). */
  rewriteMs: number;
}

/** The profile file of the session whose nodes include `marker` in their names (ONNX Runtime writes one per session). */
export async function findProfile(dir: string, marker: string): Promise<TraceEvent[]> {
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.json')) continue;
    const text = await readFile(join(dir, name), 'utf8');
    if (text.includes(marker)) return JSON.parse(text) as TraceEvent[];
  }
  throw new Error(`no ONNX Runtime profile in ${dir} mentions ${marker}`);
}

/**
 * Operator time over runs [from, to) of a session. Subgraph nodes (the branches of an If) are
 * profiled as well as the If that runs them, so each node's time is made exclusive: its duration
 * less that of the nodes nested inside it.
 */
export function opProfile(events: readonly TraceEvent[], from: number, to: number): OpProfile {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const windows = runs.slice(from, to);
  const inWindow = (e: TraceEvent) => windows.some((w) => e.ts >= w.ts && e.ts + e.dur <= w.ts + w.dur);
  const nodes = events
    .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inWindow(e))
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const exclusive = new Map<TraceEvent, number>();
  const stack: TraceEvent[] = [];
  for (const node of nodes) {
    while (stack.length > 0 && node.ts >= stack[stack.length - 1].ts + stack[stack.length - 1].dur) stack.pop();
    const outer = stack[stack.length - 1];
    if (outer) exclusive.set(outer, exclusive.get(outer)! - node.dur);
    exclusive.set(node, node.dur);
    stack.push(node);
  }
  const byOp = new Map<string, number>();
  let rewriteUs = 0;
  for (const [node, us] of exclusive) {
    const op = node.args?.op_name ?? '?';
    byOp.set(op, (byOp.get(op) ?? 0) + us);
    if (node.name.includes('/styleset/')) rewriteUs += us;
  }
  return {
    runMs: windows.reduce((sum, w) => sum + w.dur, 0) / 1000,
    byOp: [...byOp].map(([op, us]) => ({ op, ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    rewriteMs: rewriteUs / 1000,
  };
}
