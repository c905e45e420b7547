import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
const MAX_REQUESTS = 5000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

/**
 * A paired raw client, its connection's id, and a weak reference to the daemon's end of its TCP
 * socket: the daemon's Connection holds that socket, so once the reference is cleared nothing of
 * the connection (listeners, job followers, waiting requests, unsent bytes) is reachable.
 */
async function pairedTcp(): Promise<{ socket: TcpWebSocket; id: string; daemonEnd: WeakRef<Socket> }> {
  const accepted: WeakRef<Socket>[] = [];
  const onAccept = (message: unknown) => accepted.push(new WeakRef((message as { socket: Socket }).socket));
  subscribe('net.server.socket', onAccept);
  const socket = await TcpWebSocket.open(test.daemon.port).finally(() => unsubscribe('net.server.socket', onAccept));
  socket.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: test.token });
  expect((await socket.next()).message.type).toBe('welcome');
  const connected = test.events.filter((e) => e.type === 'connected');
  const daemonEnd = accepted.find((ref) => ref.deref()?.remotePort === socket.socket.localPort);
  if (daemonEnd === undefined) throw new Error("the daemon's end of the socket was not seen");
  return { socket, id: (connected.at(-1) as Extract<DaemonEvent, { type: 'connected' }>).clientId, daemonEnd };
}

/** Collects garbage until the socket is gone; false if it stays reachable. */
async function collected(ref: WeakRef<Socket>): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    await turn();
    gc();
    await turn();
    if (ref.deref() === undefined) return true;
  }
  return false;
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

    const { socket: bad, id, daemonEnd } = await pairedTcp();
    bad.pause();
    let sent = 0;
    // Requests, while it reads them, until the daemon has stopped for good: it holds as many as it
    // queues, has stopped reading, and waits for the client to read (the kernel's buffers are full).
    await vi.waitFor(
      () => {
        const { reading, bufferedBytes } = statsOf(id)!;
        for (let i = 0; reading && i < 4 && sent < MAX_REQUESTS; i++) {
          bad.send({ v: PROTOCOL_VERSION, id: `r${sent++}`, type: 'get_results', jobId: job.jobId });
        }
        if (reading || bufferedBytes < LIMITS.serveBelowBytes) throw new Error(`still serving after ${sent} requests`);
      },
      { timeout: 60_000, interval: 5 },
    );
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
    expect(await collected(daemonEnd)).toBe(true);
    expect((await good.listModels()).length).toBeGreaterThan(0);
  });

  it('is closed with a reason when a job event would put it over the cap; the job goes on and its results stay', async () => {
    // The job waits before its last images, so that it is still running when the client is gone.
    const prompts = Array.from({ length: 20 }, (_, i) => `image ${i}`);
    test = await TestDaemon.start({ engine: { noisyResults: true, holdBeforeImage: 16 }, daemon: LIMITS });
    const { socket: bad, id, daemonEnd } = await pairedTcp();
    bad.pause();
    bad.send({ v: PROTOCOL_VERSION, id: 's', type: 'submit', kind: 'set', prompts, options: { width: 512, height: 512 } });

    const gone = await disconnected(id);
    expect(gone).toMatchObject({ code: 1008, reason: expect.stringContaining('maxBufferedBytes') });
    const slow = test.events.find((e) => e.type === 'slow_client');
    expect(slow).toMatchObject({ clientId: id, limit: LIMITS.maxBufferedBytes });
    if (slow?.type !== 'slow_client') throw new Error('no slow_client event');
    // What it held never passed the cap; the frame that would have is the one it was closed for.
    expect(slow.peakBufferedBytes).toBeLessThanOrEqual(LIMITS.maxBufferedBytes);
    expect(slow.bufferedBytes + slow.frameBytes).toBeGreaterThan(LIMITS.maxBufferedBytes);

    // The job still runs, and nothing of the connection is left: not even as one of its followers.
    const jobId = test.events.find((e): e is Extract<DaemonEvent, { type: 'job' }> => e.type === 'job' && e.clientId === id)!.jobId;
    const again = await test.client();
    expect((await again.getStatus(jobId)).state).toBe('running');
    expectGone(id, { paired: 1, followers: 0 });
    expect(await collected(daemonEnd)).toBe(true);

    // Reconnecting, the client finds its job finished and every image stored.
    test.engine.release();
    await collect(again.follow(jobId));
    const { results, status } = await again.getResults(jobId);
    expect(status.state).toBe('done');
    expect(results.map((r) => r.message.index)).toEqual([...prompts.keys()]);
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
