import { describe, expect, it } from 'vitest';
import { hostName, isAllowedHost } from '../../src/server/host-check';
import { JobQueue } from '../../src/server/job-queue';
import { ProgressGate } from '../../src/server/progress-gate';

describe('Host names', () => {
  it('reads the name out of every Host form', () => {
    expect(hostName('LocalHost:7391')).toBe('localhost');
    expect(hostName('[::1]:7391')).toBe('[::1]');
    expect(hostName('[::1]')).toBe('[::1]');
    expect(hostName('')).toBeUndefined();
    expect(hostName(undefined)).toBeUndefined();
    expect(hostName('a:b:c')).toBeUndefined();
    expect(hostName('host:99999999')).toBeUndefined();
  });

  it('allows loopback and configured names only', () => {
    expect(isAllowedHost('127.0.0.1:1', [])).toBe(true);
    expect(isAllowedHost('127.0.0.2', [])).toBe(false);
    expect(isAllowedHost('gpu.example:443', ['GPU.example'])).toBe(true);
    expect(isAllowedHost('gpu.example.attacker.test', ['gpu.example'])).toBe(false);
  });
});

describe('job queue', () => {
  const owner = (item: string) => item[0];

  it('hands out items first in, first out, counting the running one in positions', async () => {
    const queue = new JobQueue<string>({ perClient: 9, total: 9 }, owner);
    expect(queue.add('a1')).toBe(0);
    expect(await queue.next()).toBe('a1');
    expect(queue.add('b1')).toBe(1);
    expect(queue.add('a2')).toBe(2);
    expect(queue.positions()).toEqual([['b1', 1], ['a2', 2]]);
    expect(queue.remove('b1')).toBe(true);
    expect(queue.remove('a1')).toBe(false);
    expect(queue.positions()).toEqual([['a2', 1]]);
    queue.finish();
    expect(queue.positions()).toEqual([['a2', 0]]);
    expect(await queue.next()).toBe('a2');
  });

  it('waits for work, and stops waiting when closed, handing back what waited', async () => {
    const queue = new JobQueue<string>({ perClient: 9, total: 9 }, owner);
    const next = queue.next();
    queue.add('a1');
    expect(await next).toBe('a1');
    queue.add('b1');
    expect(queue.close()).toEqual(['b1']);
    expect(await queue.next()).toBeUndefined();
  });

  it('counts the running item against the per-client and total limits', async () => {
    const queue = new JobQueue<string>({ perClient: 2, total: 3 }, owner);
    queue.add('a1');
    await queue.next();
    queue.add('a2');
    expect(() => queue.checkRoom('a')).toThrow(expect.objectContaining({ code: 'queue_full' }));
    queue.checkRoom('b');
    queue.add('b1');
    expect(() => queue.checkRoom('c')).toThrow(/3 jobs queued or running/);
  });
});

describe('progress gate', () => {
  it('passes a phase\'s first and last report, previews, and otherwise one report per interval', () => {
    let now = 0;
    const gate = new ProgressGate(100, () => now);
    const admit = (phase: 'loading' | 'denoising', step: number, total: number, preview?: Uint8Array) => gate.admit({ phase, step, total, preview });
    expect(admit('loading', 0, 1)).toBe(true);
    now = 1;
    expect(admit('loading', 1, 1)).toBe(true);
    const passed: number[] = [];
    for (let step = 1; step <= 50; step++) {
      now += 7; // 7 ms a step: 350 ms in all
      if (admit('denoising', step, 50, step === 30 ? new Uint8Array([1]) : undefined)) passed.push(step);
    }
    // Step 1 (new phase) at t=8, then the first step 100 ms later each time, the preview, the last.
    expect(passed).toEqual([1, 16, 30, 45, 50]);
  });

  it('with interval 0 passes everything', () => {
    const gate = new ProgressGate(0, () => 5);
    expect([1, 2, 3].map((step) => gate.admit({ phase: 'denoising', step, total: 9 }))).toEqual([true, true, true]);
  });
});
