import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIMITS, PROTOCOL_VERSION } from '@styleset/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { configPath, loadConfig } from '../../src/config/config-file';
import { Admission, type Standing } from '../../src/server/admission';
import { StylesetClient } from '../../src/server/client';
import { collect, TestDaemon } from './support/harness';

let test: TestDaemon;
const closeDaemon = async () => {
  await test.close();
};

/** Sockets that connect and never say hello, each reopened as soon as it closes. */
class NeverHello {
  opened = 0;
  private running = true;
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly url: string,
    count: number,
  ) {
    for (let i = 0; i < count; i++) this.open();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(
      [...this.sockets].map((ws) => new Promise((resolve) => {
        ws.once('close', resolve);
        ws.terminate();
      })),
    );
  }

  private open(): void {
    if (!this.running) return;
    const ws = new WebSocket(this.url);
    this.sockets.add(ws);
    ws.on('open', () => this.opened++);
    ws.on('error', () => {});
    ws.once('close', () => {
      this.sockets.delete(ws);
      setImmediate(() => this.open());
    });
  }
}

describe('connection budgets', () => {
  afterEach(closeDaemon);

  it('lets a real client pair, every time, while more sockets than the budget never say hello and are reopened', async () => {
    const budget = 4;
    test = await TestDaemon.start({ daemon: { maxConnections: budget, maxUnpairedConnections: budget } });
    const flood = new NeverHello(test.url, budget + 1);
    const attempts = 30;
    let paired = 0;
    for (let i = 0; i < attempts; i++) {
      const client = await StylesetClient.connect({ url: test.url, token: test.token });
      expect((await client.listModels()).map((m) => m.id)).toContain('tiny');
      await client.close();
      paired++;
    }
    const displaced = test.events.filter((e) => e.type === 'disconnected' && e.code === 1013).length;
    await flood.stop();
    expect(paired).toBe(attempts);
    // The flood was on all along: its sockets were displaced and came back, many times over.
    expect(displaced).toBeGreaterThanOrEqual(attempts);
    expect(flood.opened).toBeGreaterThan(budget + attempts);
  });

  it('closes the oldest unpaired connection when one more arrives, saying why', async () => {
    test = await TestDaemon.start({ daemon: { maxUnpairedConnections: 2 } });
    const [oldest, second] = [await test.socket(), await test.socket()];
    await test.socket();
    expect(await oldest.closed).toEqual({ code: 1013, reason: expect.stringContaining('maxUnpairedConnections') });
    second.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: test.token });
    expect((await second.next()).message.type).toBe('welcome');
    expect(test.daemon.stats()).toMatchObject({ paired: 1, unpaired: 1 });
  });

  it('makes room for a newly paired client by closing the one idle the longest, never a busy one', async () => {
    test = await TestDaemon.start({ daemon: { maxConnections: 2 } });
    const idle = await test.pairedSocket();
    const other = await test.pairedSocket();
    other.send({ v: PROTOCOL_VERSION, id: 'q', type: 'get_queue' });
    await other.next();
    const newcomer = await test.pairedSocket();
    expect(await idle.closed).toEqual({ code: 1013, reason: expect.stringContaining('idle the longest') });

    // Both now follow a job that waits: neither is idle, so a third is refused instead.
    test.engine.hold();
    for (const socket of [other, newcomer]) {
      socket.send({ v: PROTOCOL_VERSION, id: 's', type: 'submit', kind: 'set', prompts: ['a'] });
      expect((await socket.next()).message.type).toBe('accepted');
    }
    const refused = await test.socket();
    refused.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: test.token });
    expect((await refused.next()).message).toMatchObject({ type: 'error', id: 'h', code: 'too_many_connections', message: expect.stringContaining('maxConnections') });
    expect(await refused.closed).toEqual({ code: 1013, reason: 'too_many_connections' });
    test.engine.release();
    for (const socket of [other, newcomer]) expect((await socket.until('done')).at(-1)?.message.type).toBe('done');
    expect(test.daemon.stats()).toMatchObject({ paired: 2, unpaired: 0, followers: 0 });
  });

  it('closes an unpaired connection that sends more than a hello before pairing, naming the limit', async () => {
    test = await TestDaemon.start();
    const socket = await test.socket();
    // Long enough that it cannot arrive whole in one read: it is cut off before it is buffered.
    socket.send(JSON.stringify({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: 'x'.repeat(1024 * 1024) }));
    expect((await socket.next()).message).toMatchObject({ type: 'error', code: 'too_large', message: expect.stringContaining('8192 bytes before it has paired') });
    expect(await socket.closed).toEqual({ code: 1009, reason: 'too_large' });
  });
});

describe('config.json', () => {
  it('reads maxConnections, and refuses one below 1 naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'styleset-limits-'));
    await writeFile(configPath(dir), JSON.stringify({ maxConnections: 100, maxJobsPerClient: 20, maxJobs: 40 }));
    expect(await loadConfig(dir)).toEqual({ maxConnections: 100, maxJobsPerClient: 20, maxJobs: 40 });
    await writeFile(configPath(dir), JSON.stringify({ maxConnections: 0 }));
    await expect(loadConfig(dir)).rejects.toThrow(`${configPath(dir)}: maxConnections:`);
    await rm(dir, { recursive: true });
  });
});

describe('frame size', () => {
  afterEach(closeDaemon);

  it('tells a client which limit its oversized frame broke before closing with 1009', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    socket.send(new Uint8Array(LIMITS.maxBinaryFrameBytes + 1));
    const { message } = await socket.next();
    expect(message).toMatchObject({ type: 'error', code: 'too_large', message: expect.stringContaining(String(LIMITS.maxBinaryFrameBytes)) });
    expect(message.type === 'error' && message.message).toMatch(/smaller image/);
    expect(await socket.closed).toEqual({ code: 1009, reason: `frame over ${LIMITS.maxBinaryFrameBytes} bytes (maxBinaryFrameBytes)` });
  });

  it('reads a frame of exactly the limit (here, bytes that are no message) and keeps the connection', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    const socket = await test.pairedSocket();
    socket.send(new Uint8Array(LIMITS.maxBinaryFrameBytes));
    expect((await socket.next()).message).toMatchObject({ type: 'error', code: 'bad_message' });
    socket.send({ v: PROTOCOL_VERSION, id: 'm', type: 'list_models' });
    expect((await socket.next()).message).toMatchObject({ type: 'models', id: 'm' });
    expect(await collect(await client.submit({ kind: 'set', prompts: ['a'] }))).not.toHaveLength(0);
  });
});

describe('Admission', () => {
  const standings = new Map<string, Standing>();
  const admission = () => new Admission<string>({ paired: 2, unpaired: 2 }, (c) => standings.get(c) ?? { state: 'busy' });

  it('displaces unpaired connections oldest first and never counts one twice', () => {
    const a = admission();
    expect(a.arrive('u1')).toBeUndefined();
    expect(a.arrive('u2')).toBeUndefined();
    expect(a.arrive('u3')).toBe('u1');
    expect(a.arrive('u4')).toBe('u2');
    a.leave('u3');
    expect(a.arrive('u5')).toBeUndefined();
    expect(a.counts).toEqual({ paired: 0, unpaired: 2 });
  });

  it('takes a closing connection first, then the longest idle, and refuses when all are busy', () => {
    const a = admission();
    for (const c of ['p1', 'p2', 'p3', 'p4']) a.arrive(c);
    expect(a.pair('p1')).toEqual({ admitted: true });
    expect(a.pair('p2')).toEqual({ admitted: true });
    standings.set('p1', { state: 'idle', since: 20 });
    standings.set('p2', { state: 'idle', since: 10 });
    expect(a.pair('p3')).toEqual({ admitted: true, displaced: 'p2' });
    standings.set('p3', { state: 'closing' });
    expect(a.pair('p4')).toEqual({ admitted: true, displaced: 'p3' });
    standings.set('p1', { state: 'busy' });
    standings.set('p4', { state: 'busy' });
    a.arrive('p5');
    expect(a.pair('p5')).toEqual({ admitted: false });
    expect(a.counts).toEqual({ paired: 2, unpaired: 0 });
  });
});
