import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Other work on the machine: the CPU time the whole machine used, less this benchmark's own (this
 * process and every child it has reaped, which Linux adds to its cutime/cstime), read from /proc.
 * Counting from the machine's totals rather than per process also sees processes that start and
 * end between two readings. Elsewhere than Linux nothing is known and the machine reads as idle.
 * The development machine is shared: every scenario waits for quiet and is rerun if it was not.
 */
export interface CpuSnapshot {
  /** Jiffies of all CPUs together: in all, and busy. */
  total: number;
  busy: number;
  /** This process's jiffies, its reaped children's included. */
  own: number;
  /** Per process: name and jiffies, only to name the busiest. */
  processes: Map<number, { name: string; ticks: number }>;
}

export interface OtherWork {
  /** Share of the whole machine's CPU time (0..1) used by other processes between two snapshots. */
  share: number;
  /** Other processes alive at both snapshots that used at least a tenth of a core, for the log. */
  busiest: string[];
}

/** Below this share of the machine (a tenth of a core on two cores), it counts as idle. */
export const IDLE_SHARE = 0.05;

export function snapshotCpu(): CpuSnapshot {
  const snapshot: CpuSnapshot = { total: 0, busy: 0, own: 0, processes: new Map() };
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    snapshot.total = fields.reduce((a, b) => a + b, 0);
    snapshot.busy = snapshot.total - fields[3] - fields[4];
    const own = statFields(readFileSync('/proc/self/stat', 'utf8')).rest;
    // utime, stime, cutime, cstime: fields 14 to 17.
    snapshot.own = [11, 12, 13, 14].reduce((sum, i) => sum + Number(own[i]), 0);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      try {
        const { name, rest } = statFields(readFileSync(`/proc/${entry}/stat`, 'utf8'));
        snapshot.processes.set(Number(entry), { name, ticks: Number(rest[11]) + Number(rest[12]) });
      } catch {
        // The process ended meanwhile.
      }
    }
  } catch {
    // Not Linux.
  }
  return snapshot;
}

/** The name, and the fields after it (from field 3, the state), of a /proc/<pid>/stat line. */
function statFields(stat: string): { name: string; rest: string[] } {
  // The name is in parentheses and may hold spaces or parentheses.
  const close = stat.lastIndexOf(')');
  return { name: stat.slice(stat.indexOf('(') + 1, close), rest: stat.slice(close + 2).split(' ') };
}

/** What processes other than this one and its children used between the snapshots. */
export function otherWork(before: CpuSnapshot, after: CpuSnapshot): OtherWork {
  const elapsed = after.total - before.total;
  if (elapsed <= 0) return { share: 0, busiest: [] };
  const others = after.busy - before.busy - (after.own - before.own);
  const busiest: string[] = [];
  for (const [pid, now] of after.processes) {
    const then = before.processes.get(pid);
    if (!then) continue;
    const ofCore = ((now.ticks - then.ticks) / elapsed) * cpus().length;
    if (ofCore >= 0.1) busiest.push(`${now.name} (pid ${pid}, ${Math.round(ofCore * 100)}% of a core)`);
  }
  return { share: Math.max(0, others / elapsed), busiest };
}

/** Watches for `ms` and reports other work in that window. */
export async function watchOtherWork(ms: number): Promise<OtherWork> {
  const before = snapshotCpu();
  await sleep(ms);
  return otherWork(before, snapshotCpu());
}

/**
 * Returns once other processes have stayed under IDLE_SHARE for a 2-second window, or after
 * `maxWaitMs` (the caller then goes on, and records that it was not idle).
 */
export async function waitForIdle(maxWaitMs: number, log: (message: string) => void): Promise<void> {
  const deadline = performance.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const work = await watchOtherWork(2000);
    if (work.share < IDLE_SHARE || performance.now() > deadline) return;
    if (!told) log(`waiting for the machine to be idle (${describe(work)})`);
    told = true;
  }
}

export function describe(work: OtherWork): string {
  return `${Math.round(work.share * 100)}% of the CPU elsewhere${work.busiest.length > 0 ? `: ${work.busiest.join(', ')}` : ''}`;
}
