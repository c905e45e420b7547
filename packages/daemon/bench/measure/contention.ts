import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Other work on the machine: CPU time used by processes outside this benchmark's own process
 * tree, read from /proc (Linux; elsewhere nothing is known and the machine reads as idle). The
 * development machine is shared, so every scenario waits for quiet and records how quiet it was.
 */
export interface CpuSnapshot {
  /** Jiffies of all CPUs together. */
  total: number;
  idle: number;
  processes: Map<number, { name: string; parent: number; ticks: number }>;
}

export interface OtherWork {
  /** Share of the whole machine's CPU time (0..1) that other processes used between two snapshots. */
  share: number;
  /** Those that used at least a tenth of a core, with their share of one core. */
  busiest: string[];
}

/** Below this share of the machine (a tenth of a core on two cores), it counts as idle. */
export const IDLE_SHARE = 0.05;

export function snapshotCpu(): CpuSnapshot {
  const snapshot: CpuSnapshot = { total: 0, idle: 0, processes: new Map() };
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    snapshot.total = fields.reduce((a, b) => a + b, 0);
    snapshot.idle = fields[3] + fields[4];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // The name is in parentheses and may hold spaces; the fields after it are fixed.
        const close = stat.lastIndexOf(')');
        const rest = stat.slice(close + 2).split(' ');
        snapshot.processes.set(Number(entry), {
          name: stat.slice(stat.indexOf('(') + 1, close),
          parent: Number(rest[1]),
          ticks: Number(rest[11]) + Number(rest[12]),
        });
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    // Not Linux.
  }
  return snapshot;
}

/** What processes other than this one and its descendants used between the snapshots. */
export function otherWork(before: CpuSnapshot, after: CpuSnapshot): OtherWork {
  const elapsed = after.total - before.total;
  if (elapsed <= 0) return { share: 0, busiest: [] };
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === process.pid) return true;
      p = after.processes.get(p)?.parent ?? 0;
    }
    return false;
  };
  let ticks = 0;
  const busiest: string[] = [];
  for (const [pid, now] of after.processes) {
    const used = now.ticks - (before.processes.get(pid)?.ticks ?? now.ticks);
    if (used <= 0 || ours(pid)) continue;
    ticks += used;
    const ofCore = (used / elapsed) * cpus().length;
    if (ofCore >= 0.1) busiest.push(`${now.name} (pid ${pid}, ${Math.round(ofCore * 100)}% of a core)`);
  }
  return { share: ticks / elapsed, busiest };
}

/** Watches for `ms` and reports other work in that window. */
export async function watchOtherWork(ms: number): Promise<OtherWork> {
  const before = snapshotCpu();
  await sleep(ms);
  return otherWork(before, snapshotCpu());
}

/**
 * Returns once other processes have stayed under IDLE_SHARE for a 2-second window, or after
 * `maxWaitMs` (the scenario then runs, and its record says it was not idle).
 */
export async function waitForIdle(maxWaitMs: number, log: (message: string) => void): Promise<void> {
  const deadline = performance.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const work = await watchOtherWork(2000);
    if (work.share < IDLE_SHARE || performance.now() > deadline) return;
    if (!told) log(`waiting for the machine to be idle: ${work.busiest.join(', ') || `${Math.round(work.share * 100)}% CPU elsewhere`}`);
    told = true;
  }
}
