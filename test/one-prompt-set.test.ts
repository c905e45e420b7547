import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readToken } from '../packages/daemon/src/config/token';
import { PipelineEngine } from '../packages/daemon/src/engine/pipeline-engine';
import { StylesetClient, type Received, type SubmitRequest } from '../packages/daemon/src/server/client';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { tinyModelSet } from './support/tiny-model-set';

// A set of one is an ordinary request: its prompt is its own reference, which sharing leaves as
// plain generation makes it. Each path is compared with an independent way to the same image.

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'bin', 'styleset.js');

let set: Awaited<ReturnType<typeof tinyModelSet<'sd1'>>>;
let root: string;
let engine: PipelineEngine;
let daemon: Daemon;
let client: StylesetClient;

beforeAll(async () => {
  set = await tinyModelSet({ sd1: { family: 'sd1' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-one-'));
  engine = new PipelineEngine({ models: [{ id: 'sd1', dir: set.models.sd1.dir }], defaultModelId: 'sd1', runtime: { provider: 'cpu', threads: 1 }, dataDir: join(root, 'data') });
  daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), port: 0 });
  client = await StylesetClient.connect({ url: daemon.url, token: await readToken(join(root, 'config')) });
});

afterAll(async () => {
  await client?.close();
  await daemon?.close();
  await engine?.close();
  await rm(root, { recursive: true, force: true });
  await set?.dispose();
});

async function styleset(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, STYLESET_DATA_DIR: join(root, 'cli-data') } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** The PNGs a job delivered, in index order; fails the test unless the job ended `done`. */
async function images(request: SubmitRequest, image?: Uint8Array): Promise<Buffer[]> {
  const job = await client.submit(request, image && { bytes: image, mime: 'image/png' });
  const events: Received[] = [];
  for await (const event of job) events.push(event);
  expect(events.at(-1)!.message).toMatchObject({ type: 'done' });
  return events.filter((e) => e.message.type === 'result').map((e) => Buffer.from(e.bytes!));
}

describe('a set of one prompt', () => {
  it('styleset generate "a star": one image, the one plain generation makes with that seed', async () => {
    const common = ['generate', '--model', set.models.sd1.dir, '--steps', '3', '--seed', '7'];
    const shared = await styleset(...common, '--out', join(root, 'shared'), 'a star');
    expect(shared.stderr).toBe('');
    expect(shared.code).toBe(0);
    const plain = await styleset(...common, '--no-share', '--out', join(root, 'plain'), 'a star');
    expect(plain.code).toBe(0);
    expect((await readdir(join(root, 'shared'))).sort()).toEqual(['01-a-star.png', 'set.json']);
    const a = await readFile(join(root, 'shared', '01-a-star.png'));
    expect(Buffer.compare(a, await readFile(join(root, 'plain', '01-a-star.png')))).toBe(0);
  });

  it('styleset generate --ref-image with one prompt: the image a two-prompt job gives its first prompt', async () => {
    const ref = ['--ref-image', join(root, 'plain', '01-a-star.png'), '--ref-prompt', 'a star', '--inversion-offset', '1'];
    const common = ['generate', '--model', set.models.sd1.dir, '--steps', '3', '--seed', '9', ...ref];
    const one = await styleset(...common, '--out', join(root, 'ref-one'), 'a moon');
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    // Batches of two put the moon beside the reference alone, as the one-prompt job does.
    const two = await styleset(...common, '--batch-size', '2', '--out', join(root, 'ref-two'), 'a moon', 'a bolt');
    expect(two.code).toBe(0);
    expect((await readdir(join(root, 'ref-one'))).sort()).toEqual(['01-a-moon.png', 'set.json']);
    const a = await readFile(join(root, 'ref-one', '01-a-moon.png'));
    expect(Buffer.compare(a, await readFile(join(root, 'ref-two', '01-a-moon.png')))).toBe(0);
  });

  it('a one-prompt set job through the daemon equals the plain one', async () => {
    const shared = await images({ kind: 'set', prompts: ['a star'], options: { steps: 3, seed: 11 } });
    const plain = await images({ kind: 'set', prompts: ['a star'], options: { steps: 3, seed: 11, shareAttention: false } });
    expect(shared).toHaveLength(1);
    expect(plain).toHaveLength(1);
    expect(Buffer.compare(shared[0], plain[0])).toBe(0);
  });

  it('a one-prompt reference job through the daemon equals the first image of a two-prompt one', async () => {
    const [star] = await images({ kind: 'set', prompts: ['a star'], options: { steps: 3, seed: 3, shareAttention: false } });
    const options = { steps: 3, seed: 13, inversionOffset: 1 };
    const one = await images({ kind: 'reference', prompts: ['a moon'], referencePrompt: 'a star', options }, star);
    const two = await images({ kind: 'reference', prompts: ['a moon', 'a bolt'], referencePrompt: 'a star', options: { ...options, batchSize: 2 } }, star);
    expect(one).toHaveLength(1);
    expect(two).toHaveLength(2);
    expect(Buffer.compare(one[0], two[0])).toBe(0);
  });
});
