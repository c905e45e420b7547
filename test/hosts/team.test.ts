// Team mode end to end: real redis-server, the built CLI's front doors and workers in processes of
// their own, clients speaking the unchanged protocol (StylesetClient).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DECODE_LIMITS } from '../../packages/daemon/src/image/image8';
import { decodePng } from '../../packages/daemon/src/image/png';
import { StylesetClient, type Received } from '../../packages/daemon/src/server/client';
import { tinyModelSet } from '../support/tiny-model-set';
import { startRedisServer, type RedisServer } from './support/redis-server';
import { pairingToken, startFrontDoor, startWorker, type TeamProcess } from './support/team';

let models: Awaited<ReturnType<typeof tinyModelSet<'tiny'>>>;
let root: string;
const running: Array<{ stop(signal?: NodeJS.Signals): Promise<void> }> = [];
const clients: StylesetClient[] = [];

beforeAll(async () => {
  models = await tinyModelSet({ tiny: { family: 'sd1' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-team-'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  await models?.dispose();
  await rm(root, { recursive: true, force: true });
});

async function redis(options?: { password?: string }): Promise<RedisServer> {
  const server = await startRedisServer(options);
  running.push({ stop: () => server.dispose() });
  return server;
}

async function worker(queue: string, name: string, lockMs?: number): Promise<TeamProcess> {
  const started = await startWorker(queue, join(root, name), { tiny: models.models.tiny.dir }, lockMs);
  running.push(started);
  return started;
}

async function frontDoor(queue: string, configDir = join(root, 'config')) {
  const started = await startFrontDoor(queue, configDir);
  running.push(started);
  return started;
}

async function connect(url: string, configDir = join(root, 'config')): Promise<StylesetClient> {
  const client = await StylesetClient.connect({ url, token: await pairingToken(configDir) });
  clients.push(client);
  return client;
}

async function drain(job: AsyncIterable<Received>): Promise<Received[]> {
  const events: Received[] = [];
  for await (const event of job) events.push(event);
  return events;
}

describe('team mode', () => {
  it('runs a job submitted at a front door on a worker and streams its events and results back, stored before announced', async () => {
    const server = await redis();
    await worker(server.url, 'w1');
    const door = await frontDoor(server.url);
    const client = await connect(door.url);
    // The worker's models: the embedded one (its default) and the tiny one it was given.
    expect(client.welcome.defaultModel).toBe('default');
    expect((await client.listModels()).map((m) => m.id).sort()).toEqual(['default', 'tiny']);
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon', 'a house'], options: { model: 'tiny', steps: 3, seed: 7, previewEvery: 1 } });
    const events = await drain(job);
    const types = events.map((e) => e.message.type);
    expect(types[0]).toBe('status');
    expect(types.at(-1)).toBe('done');
    expect(types.filter((t) => t === 'result')).toHaveLength(3);
    expect(events.some((e) => e.message.type === 'progress' && e.bytes !== undefined)).toBe(true);
    const results = events.filter((e) => e.message.type === 'result');
    expect(results.map((r) => (r.message as { index: number }).index)).toEqual([0, 1, 2]);
    // Fetched again from the store, through the same front door: byte for byte what was streamed.
    const fetched = await client.getResults(job.jobId);
    expect(fetched.status.state).toBe('done');
    expect(fetched.results.map((r) => Buffer.from(r.bytes!).toString('base64'))).toEqual(results.map((r) => Buffer.from(r.bytes!).toString('base64')));
    for (const result of results) {
      const image = decodePng(result.bytes!, DEFAULT_DECODE_LIMITS);
      const { width, height } = result.message as { width: number; height: number };
      expect([image.width, image.height]).toEqual([width, height]);
    }
  });
});
