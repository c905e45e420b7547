import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set so far, in MiB. On Linux it reads VmHWM, the high-water mark of
 * the current address space: getrusage's maxRSS is not usable in a forked child, because the kernel
 * carries the parent's RSS at fork time over into it (a floor of the orchestrator's size).
 */
export function peakRssMiB(): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) / 1024;
  } catch {
    // Not Linux: fall through to getrusage.
  }
  return process.resourceUsage().maxRSS / 1024;
}
