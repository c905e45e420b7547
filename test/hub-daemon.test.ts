import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import { createServeEngine } from '../packages/daemon/src/engine/create-engine';
import type { Engine } from '../packages/daemon/src/engine/engine';
import { hubFromEnv, pullModel } from '../packages/daemon/src/hub';
import { removeInstalledModel } from '../packages/daemon/src/model-store';
import { StylesetClient, type Received } from '../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { filesFromFolder, startLocalHub, type LocalHub } from './support/local-hub';
import { generateTinyModel } from './support/tiny-models';

// A daemon started the way `styleset serve` starts one (createServeEngine: the engine in its own
// process) offers a model pulled after it started, and stops offering one removed, without a
// restart or a config edit.
let root: string;
let hub: LocalHub;
let engine: Engine;
let daemon: Daemon;
let client: StylesetClient;
const dataDir = () => join(root, 'data');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-pull-daemon-'));
  const model = await generateTinyModel(join(root, 'source'), { family: 'sd1', weights: 'external' });
  hub = await startLocalHub();
  hub.addRepo({ name: 'owner/tiny-sd', files: await filesFromFolder(model.dir) });
  engine = await createServeEngine({ models: {}, dataDir: dataDir(), runtime: { provider: 'cpu', threads: 1, keepFloat16: false } });
  daemon = await startDaemon({ engine, dataDir: dataDir(), configDir: join(root, 'config'), port: 0 });
  client = await StylesetClient.connect({ url: daemon.url, token: await readToken(join(root, 'config')) });
});

afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await engine?.close();
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

async function drain(job: AsyncIterable<Received>): Promise<Received[]> {
  const events: Received[] = [];
  for await (const e of job) events.push(e);
  return events;
}

describe('a running daemon and styleset pull', () => {
  it('lists a model pulled after it started, runs jobs on it, and forgets it once removed', async () => {
    const before = (await client.listModels()).map((m) => m.id);
    expect(before).not.toContain('tiny');
    await expect(client.submit({ kind: 'set', prompts: ['a cat'], options: { model: 'tiny' } })).rejects.toMatchObject({ code: 'model_not_found' });

    await pullModel({ spec: 'owner/tiny-sd', as: 'tiny', dataDir: dataDir(), hub: hubFromEnv({ HF_ENDPOINT: hub.url }) });

    const listed = (await client.listModels()).find((m) => m.id === 'tiny');
    expect(listed).toMatchObject({ id: 'tiny', name: 'tiny (owner/tiny-sd)', kind: 'sd1', loaded: false, path: join(dataDir(), 'models', 'tiny') });
    const events = await drain(await client.submit({ kind: 'set', prompts: ['a cat', 'a dog'], options: { model: 'tiny', steps: 2, seed: 3 } }));
    expect(events.filter((e) => e.message.type === 'result').map((e) => (e.message as { index: number }).index)).toEqual([0, 1]);
    expect(events.at(-1)!.message.type).toBe('done');
    expect((await client.listModels()).find((m) => m.id === 'tiny')!.loaded).toBe(true);

    await removeInstalledModel(dataDir(), 'tiny');
    expect((await client.listModels()).map((m) => m.id)).toEqual(before);
    await expect(client.submit({ kind: 'set', prompts: ['a cat'], options: { model: 'tiny' } })).rejects.toMatchObject({ code: 'model_not_found' });
  });
});
