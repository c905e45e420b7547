/**
 * Measures the daemon under the two attacks of issue #11; not part of `npm test` (it runs for
 * about a minute and prints numbers, it asserts nothing).
 *
 *   npx tsx packages/daemon/scripts/hostile-clients.ts [lockout|backpressure|all] \
 *     [--seconds 40] [--hostile 32] [--requests 1500]
 *
 * - lockout: `--hostile` sockets that never send hello, each reopened as soon as it closes (from
 *   their own process), while a real client tries to connect and pair every 250 ms.
 * - backpressure: a paired client that stops reading (its TCP socket paused) sends `--requests`
 *   get_results for a job of two ~160 KB images, then goes away. Another client's get_queue is
 *   timed meanwhile.
 *
 * The daemon runs in a child process with the server's real code and an engine that returns
 * random-noise PNGs (no model), so its RSS is the service's own; it is sampled over IPC, and once
 * more after a forced garbage collection when the bad client has gone.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PROTOCOL_VERSION, type ModelInfo } from '@styleset/protocol';
import { WebSocket } from 'ws';
import type { Engine, EngineEvents, EngineJob, EngineOutcome } from '../src/engine/engine';
import { encodePng } from '../src/image/png';
import { StylesetClient } from '../src/server/client';
import { startDaemon } from '../src/server/daemon';

const SELF = fileURLToPath(import.meta.url);
const MIB = 2 ** 20;

/** Results of random noise do not compress: each PNG is about width x height x 3 bytes. */
class NoiseEngine implements Engine {
  readonly defaultModelId = 'noise';

  async listModels(): Promise<ModelInfo[]> {
    return [{ id: 'noise', name: 'Noise', kind: 'default', width: 232, height: 232, defaults: { scheduler: 'ddim', steps: 1, guidance: 1 }, loaded: true }];
  }

  async run(job: EngineJob, events: EngineEvents): Promise<EngineOutcome> {
    const { width, height, seed } = job.options;
    for (const [index, prompt] of job.prompts.entries()) {
      const png = encodePng({ width, height, channels: 3, data: new Uint8Array(randomBytes(width * height * 3)) });
      await events.onResult({ index, prompt, seed: seed + index, width, height, png, latents: { data: new Float32Array(1), dims: [1, 1, 1, 1] } });
    }
    return { timings: {} };
  }

  async close(): Promise<void> {}
}

type Memory = NodeJS.MemoryUsage;

/** The daemon's side: start, report the address, answer memory and gc requests. */
async function daemonRole(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'styleset-hostile-'));
  const daemon = await startDaemon({ engine: new NoiseEngine(), dataDir: join(root, 'data'), configDir: join(root, 'config'), port: 0 });
  const { readToken } = await import('../src/config/token');
  const token = await readToken(join(root, 'config'));
  process.on('message', (message: { type: string }) => {
    if (message.type === 'gc') (globalThis as { gc?: () => void }).gc?.();
    if (message.type === 'memory' || message.type === 'gc') process.send!({ type: 'memory', memory: process.memoryUsage() });
    // Daemons from before the limits of #11 have no stats.
    if (message.type === 'stats') process.send!({ type: 'stats', stats: (daemon as { stats?: () => unknown }).stats?.() });
    if (message.type === 'stop') {
      void daemon.close().then(() => {
        rmSync(root, { recursive: true, force: true });
        process.exit(0);
      });
    }
  });
  process.send!({ type: 'ready', url: daemon.url, port: daemon.port, token });
}

/** Sockets that connect and never say hello, reopened as they close, until told to stop. */
async function attackerRole(): Promise<void> {
  const url = process.env.STYLESET_URL!;
  const count = Number(process.env.STYLESET_HOSTILE);
  let running = true;
  let opened = 0;
  let refused = 0;
  const open = (): void => {
    if (!running) return;
    const ws = new WebSocket(url);
    ws.on('open', () => opened++);
    ws.on('unexpected-response', (request) => {
      refused++;
      request.destroy();
      ws.emit('close');
    });
    ws.on('error', () => {});
    let reopened = false;
    ws.on('close', () => {
      if (reopened) return;
      reopened = true;
      setImmediate(open);
    });
  };
  for (let i = 0; i < count; i++) open();
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') return;
    running = false;
    process.send!({ type: 'counts', opened, refused });
    setTimeout(() => process.exit(0), 100);
  });
  process.send!({ type: 'ready' });
}

class Child {
  private readonly waiting: ((message: Record<string, unknown>) => void)[] = [];

  private constructor(readonly process: ChildProcess) {
    process.on('message', (message: Record<string, unknown>) => this.waiting.shift()?.(message));
  }

  static start(role: string, env: Record<string, string> = {}): Child {
    const child = fork(SELF, [], {
      env: { ...process.env, STYLESET_HOSTILE_ROLE: role, ...env },
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(child);
  }

  next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ask(type: string): Promise<Record<string, unknown>> {
    const reply = this.next();
    this.process.send({ type });
    return reply;
  }

  async memory(gc = false): Promise<Memory> {
    return (await this.ask(gc ? 'gc' : 'memory')).memory as Memory;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    this.process.send({ type: 'stop' });
    await exited;
  }
}

const mb = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MB`;
const describeMemory = (m: Memory): string => `RSS ${mb(m.rss)} (heap ${mb(m.heapUsed)}, buffers ${mb(m.arrayBuffers)})`;

async function lockout(seconds: number, hostile: number): Promise<void> {
  const daemon = Child.start('daemon');
  const { url, token } = (await daemon.next()) as { url: string; token: string };
  const before = await daemon.memory();
  const attacker = Child.start('attacker', { STYLESET_URL: url, STYLESET_HOSTILE: String(hostile) });
  await attacker.next();
  await sleep(1000);
  let attempts = 0;
  const failures = new Map<string, number>();
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    attempts++;
    try {
      const client = await StylesetClient.connect({ url, token, timeoutMs: 5000 });
      await client.getQueue();
      await client.close();
    } catch (error) {
      const why = (error as Error).message.replace(/c\d+/g, 'cN').slice(0, 120);
      failures.set(why, (failures.get(why) ?? 0) + 1);
    }
    await sleep(250);
  }
  const during = await daemon.memory();
  const counts = (await attacker.ask('stop')) as { opened: number; refused: number };
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  console.log(`lockout: ${hostile} hostile sockets reopened as they close, ${seconds} s`);
  console.log(`  real clients: ${attempts} attempts, ${failed} failed`);
  for (const [why, n] of failures) console.log(`    ${n} x ${why}`);
  console.log(`  hostile sockets: ${counts.opened} opened, ${counts.refused} refused by HTTP status`);
  console.log(`  daemon ${describeMemory(before)} before, ${describeMemory(during)} at the end`);
  await daemon.stop();
}

/** A WebSocket client over a bare TCP socket, so that reading can stop for real (pause). */
class TcpClient {
  private buffered = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {}

  static async open(port: number): Promise<TcpClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(
      ['GET / HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, '', ''].join('\r\n'),
    );
    const client = new TcpClient(socket);
    socket.on('data', (chunk: Buffer) => (client.buffered = Buffer.concat([client.buffered, chunk])));
    while (!client.buffered.includes('\r\n\r\n')) await sleep(5);
    const end = client.buffered.indexOf('\r\n\r\n') + 4;
    if (!client.buffered.subarray(0, end).toString().startsWith('HTTP/1.1 101')) throw new Error(client.buffered.subarray(0, end).toString());
    client.buffered = client.buffered.subarray(end);
    return client;
  }

  /** A masked text frame (the mask key is zero: allowed, and the payload stays readable). */
  sendText(text: string): boolean {
    const payload = Buffer.from(text);
    const length = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    return this.socket.write(Buffer.concat([Buffer.from([0x81]), length, Buffer.alloc(4), payload]));
  }

  /** The first frame's payload once it has arrived (small frames only). */
  async firstText(): Promise<string> {
    while (this.buffered.length < 2 || this.buffered.length < 2 + (this.buffered[1] & 0x7f)) await sleep(5);
    return this.buffered.subarray(2, 2 + (this.buffered[1] & 0x7f)).toString();
  }
}

async function backpressure(requests: number): Promise<void> {
  const daemon = Child.start('daemon');
  const { url, port, token } = (await daemon.next()) as { url: string; port: number; token: string };
  const good = await StylesetClient.connect({ url, token });
  const job = await good.submit({ kind: 'set', prompts: ['a', 'b'] });
  for await (const event of job) if (event.message.type === 'done' || event.message.type === 'job_error') break;
  const { results } = await good.getResults(job.jobId);
  const replyBytes = results.reduce((sum, r) => sum + r.bytes!.length, 0);
  const before = await daemon.memory(true);

  const bad = await TcpClient.open(port);
  bad.sendText(JSON.stringify({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token }));
  await bad.firstText();
  bad.socket.pause();
  let sent = 0;
  for (; sent < requests; sent++) {
    if (bad.socket.destroyed) break;
    if (!bad.sendText(JSON.stringify({ v: PROTOCOL_VERSION, id: `r${sent}`, type: 'get_results', jobId: job.jobId }))) {
      await Promise.race([new Promise((resolve) => bad.socket.once('drain', resolve)), sleep(2000)]);
    }
  }
  let peak = await daemon.memory();
  const queueTimes: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    await good.getQueue();
    queueTimes.push(performance.now() - started);
    const now = await daemon.memory();
    if (now.rss > peak.rss) peak = now;
    await sleep(500);
  }
  const { stats } = (await daemon.ask('stats')) as { stats?: { connections: { id: string; framesSent: number; peakBufferedBytes: number; reading: boolean; queuedRequests: number }[] } };
  const held = stats?.connections.reduce((a, b) => (b.framesSent > a.framesSent ? b : a));
  const closedByDaemon = bad.socket.destroyed || bad.socket.readyState !== 'open';
  bad.socket.destroy();
  await sleep(3000);
  const after = await daemon.memory();
  await sleep(12_000);
  const afterGc = await daemon.memory(true);
  console.log(`backpressure: a paired client that stops reading sends ${requests} get_results (${(replyBytes / 1e3).toFixed(0)} kB of images per reply)`);
  console.log(`  ${sent} requests written (into the kernel's buffers once the daemon stops reading); closed by the daemon: ${closedByDaemon}`);
  if (held !== undefined) {
    console.log(`  the daemon sent it ${held.framesSent} frames (3 answer a request), at most ${mb(held.peakBufferedBytes)} unread; reading from it: ${held.reading}, ${held.queuedRequests} requests held`);
  }
  console.log(`  another client's get_queue meanwhile: ${queueTimes.map((t) => t.toFixed(0)).join(', ')} ms`);
  console.log(`  daemon ${describeMemory(before)} before (after gc)`);
  console.log(`         ${describeMemory(peak)} at the highest, while the client stays`);
  console.log(`         ${describeMemory(after)} 3 s after it left, ${describeMemory(afterGc)} 15 s after, with a gc`);
  await good.close();
  await daemon.stop();
}

const role = process.env.STYLESET_HOSTILE_ROLE;
if (role === 'daemon') {
  await daemonRole();
} else if (role === 'attacker') {
  await attackerRole();
} else {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      seconds: { type: 'string', default: '40' },
      hostile: { type: 'string', default: '32' },
      requests: { type: 'string', default: '1500' },
    },
  });
  const which = positionals[0] ?? 'all';
  if (which === 'lockout' || which === 'all') await lockout(Number(values.seconds), Number(values.hostile));
  if (which === 'backpressure' || which === 'all') await backpressure(Number(values.requests));
}
