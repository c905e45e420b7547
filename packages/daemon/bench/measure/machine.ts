import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, release, totalmem, type } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Machine } from '../results';

/** How long the machine is watched for other work before the run. */
const WATCH_MS = 2000;
/** A process using at least half a core then is named in the report. */
const BUSY_SHARE = 0.5;

/** The machine, and whether anything else was using it when the run began (Linux; elsewhere unknown, reported idle). */
export async function describeMachine(): Promise<Machine> {
  const before = { total: cpuTicks(), perProcess: processTicks() };
  await sleep(WATCH_MS);
  const after = { total: cpuTicks(), perProcess: processTicks() };
  const ticksPerCore = ((after.total.all - before.total.all) / cpus().length) || 1;
  const busyProcesses = [...after.perProcess]
    .filter(([pid, [, ticks]]) => pid !== process.pid && (ticks - (before.perProcess.get(pid)?.[1] ?? ticks)) / ticksPerCore >= BUSY_SHARE)
    .map(([pid, [name]]) => `${name} (pid ${pid})`);
  const require = createRequire(import.meta.url);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
    onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
    busyBefore: after.total.all > before.total.all ? 1 - (after.total.idle - before.total.idle) / (after.total.all - before.total.all) : 0,
    busyProcesses,
  };
}

/** Jiffies of all CPUs: in all, and idle (idle + iowait). */
function cpuTicks(): { all: number; idle: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { all: fields.reduce((a, b) => a + b, 0), idle: fields[3] + fields[4] };
  } catch {
    return { all: 0, idle: 0 };
  }
}

/** Per process: command name and user + system jiffies. */
function processTicks(): Map<number, [string, number]> {
  const ticks = new Map<number, [string, number]>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return ticks;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The name is in parentheses and may hold spaces; the fields after it are fixed.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      ticks.set(Number(pid), [name, Number(rest[11]) + Number(rest[12])]);
    } catch {
      // The process ended meanwhile.
    }
  }
  return ticks;
}
