import { setImmediate as turn } from 'node:timers/promises';
import { PROTOCOL_VERSION } from '@styleset/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DaemonEvent } from '../../src/server/events';
import { collect, ofType, TestDaemon } from './support/harness';
import { TcpWebSocket } from './support/tcp-socket';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Small limits, so that a few megabytes of noise images (which do not compress) show what the
 * daemon buffers for a client that stops reading. One 512x512 result is about 0.8 MB.
 */
const LIMITS = { maxBufferedBytes: 2 * MIB, serveBelowBytes: 64 * KIB, maxQueuedRequests: 8, closeTimeoutMs: 500 };
/** Bounds the flood: far more than the kernel's socket buffers and the limits above take. */
const MAX_TURNS = 5000;

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

async function pairedTcp(): Promise<{ socket: TcpWebSocket; id: string }> {
  const socket = await TcpWebSocket.open(test.daemon.port);
  socket.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: test.token });
  expect((await socket.next()).message.type).toBe('welcome');
  const connected = test.events.filter((e) => e.type === 'connected');
  return { socket, id: (connected.at(-1) as Extract<DaemonEvent, { type: 'connected' }>).clientId };
}

const statsOf = (id: string) => test.daemon.stats().connections.find((c) => c.id === id);

function disconnected(id: string): Promise<Extract<DaemonEvent, { type: 'disconnected' }>> {
  return vi.waitFor(
    () => {
      const event = test.events.find((e) => e.type === 'disconnected' && e.clientId === id);
      if (event === undefined) throw new Error(`${id} has not disconnected`);
      return event as Extract<DaemonEvent, { type: 'disconnected' }>;
    },
    { timeout: 20_000, interval: 20 },
  );
}

/** Nothing of the connection is left: not in the daemon's set, not in a budget, not following a job. */
function expectGone(id: string, others: { paired: number; followers: number }): void {
  const stats = test.daemon.stats();
  expect(stats.connections.map((c) => c.id)).not.toContain(id);
  expect(stats).toMatchObject({ paired: others.paired, unpaired: 0, followers: others.followers });
}

describe('a client that stops reading', () => {
  it('is not served past the cap while it floods get_results; others are; nothing of it is left once it goes', async () => {
    test = await TestDaemon.start({ engine: { noisyResults: true }, daemon: LIMITS });
    const good = await test.client();
    const job = await good.submit({ kind: 'set', prompts: ['a', 'b'], options: { width: 512, height: 512 } });
    await collect(job);

    const { socket: bad, id } = await pairedTcp();
    bad.pause();
    let sent = 0;
    // Requests until the daemon has stopped for good: it holds as many as it queues, stopped
    // reading, and waits for the client to read what it has (the kernel's buffers are full).
    const stopped = () => {
      const { reading, bufferedBytes } = statsOf(id)!;
      return !reading && bufferedBytes >= LIMITS.serveBelowBytes;
    };
    for (let turns = 0; !stopped() && turns < MAX_TURNS; turns++) {
      if (statsOf(id)!.reading) bad.send({ v: PROTOCOL_VERSION, id: `r${sent++}`, type: 'get_results', jobId: job.jobId });
      await turn();
    }
    const stalled = statsOf(id)!;
    expect(stalled.reading).toBe(false);
    // It was served until its unread bytes passed serveBelowBytes, and never past the cap.
    expect(stalled.peakBufferedBytes).toBeGreaterThan(LIMITS.serveBelowBytes);
    expect(stalled.peakBufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
    expect(stalled.queuedRequests).toBeGreaterThanOrEqual(LIMITS.maxQueuedRequests);
    // Three frames answer each get_results (two results and a status): most were never answered.
    expect(stalled.framesSent).toBeLessThan(3 * sent);

    // Everyone else is served meanwhile, images included.
    expect((await good.getQueue()).type).toBe('queue');
    expect((await good.getResults(job.jobId)).results).toHaveLength(2);
    expect(statsOf(id)!.peakBufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);

    bad.destroy();
    await disconnected(id);
    expectGone(id, { paired: 1, followers: 0 });
    expect((await good.listModels()).length).toBeGreaterThan(0);
  });

  it('is closed with a reason when a job event would put it over the cap; the job goes on and its results stay', async () => {
    test = await TestDaemon.start({ engine: { noisyResults: true }, daemon: LIMITS });
    const { socket: bad, id } = await pairedTcp();
    bad.pause();
    const prompts = Array.from({ length: 16 }, (_, i) => `image ${i}`);
    bad.send({ v: PROTOCOL_VERSION, id: 's', type: 'submit', kind: 'set', prompts, options: { width: 512, height: 512 } });

    const gone = await disconnected(id);
    expect(gone).toMatchObject({ code: 1008, reason: expect.stringContaining('maxBufferedBytes') });
    const slow = test.events.find((e) => e.type === 'slow_client');
    expect(slow).toMatchObject({ clientId: id, limit: LIMITS.maxBufferedBytes });
    if (slow?.type !== 'slow_client') throw new Error('no slow_client event');
    // What it held never passed the cap; the frame that would have is the one it was closed for.
    expect(slow.peakBufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
    expect(slow.bufferedBytes + slow.frameBytes).toBeGreaterThan(LIMITS.maxBufferedBytes);

    // Reconnecting, the client finds its job finished and every image stored.
    const jobId = test.events.find((e): e is Extract<DaemonEvent, { type: 'job' }> => e.type === 'job' && e.clientId === id)!.jobId;
    const again = await test.client();
    await collect(again.follow(jobId));
    const { results, status } = await again.getResults(jobId);
    expect(status.state).toBe('done');
    expect(results.map((r) => r.message.index)).toEqual([...prompts.keys()]);
    expectGone(id, { paired: 1, followers: 0 });
  });
});

describe('a client that reads', () => {
  it('gets every image of a reply bigger than the cap, one at a time', async () => {
    test = await TestDaemon.start({ engine: { noisyResults: true }, daemon: LIMITS });
    const client = await test.client();
    const prompts = Array.from({ length: 6 }, (_, i) => `image ${i}`);
    const events = await collect(await client.submit({ kind: 'set', prompts, options: { width: 512, height: 512 } }));
    expect(ofType(events, 'result')).toHaveLength(6);
    const { results } = await client.getResults(ofType(events, 'result')[0].message.jobId);
    const bytes = results.reduce((sum, r) => sum + r.bytes!.length, 0);
    expect(bytes).toBeGreaterThan(LIMITS.maxBufferedBytes);
    expect(results.map((r) => r.message.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const [stats] = test.daemon.stats().connections;
    expect(stats.peakBufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
  });
});
