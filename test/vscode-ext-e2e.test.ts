import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, fakePng, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { connectDaemon, describeFailure, type StylesetClient } from '../packages/vscode-ext/src/daemon';
import { exists, isDirectory, writePng } from '../packages/vscode-ext/src/files';
import { globMatcher } from '../packages/vscode-ext/src/glob';
import { planImages, type SourceFile } from '../packages/vscode-ext/src/plan';
import { runSet } from '../packages/vscode-ext/src/runner';
import { DEFAULT_SETTINGS } from '../packages/vscode-ext/src/settings';

let root: string;
let workspace: string;
let daemon: Daemon;
let engine: FakeEngine;
let token: string;
const clients: StylesetClient[] = [];

async function start(options: FakeEngineOptions = {}) {
  await daemon?.close();
  engine = new FakeEngine(options);
  daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
}

async function connect(): Promise<StylesetClient> {
  const client = await connectDaemon(daemon.url, token);
  clients.push(client);
  return client;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-vscode-e2e-'));
  token = await loadOrCreateToken(join(root, 'config'));
  await start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await rm(join(root, 'workspace'), { recursive: true, force: true });
});

afterAll(async () => {
  await daemon.close();
  await rm(root, { recursive: true, force: true });
});

/** A small web project: a page, a component, a stylesheet and a README referencing missing images. */
async function project(): Promise<SourceFile[]> {
  workspace = join(root, 'workspace');
  const files: Record<string, string> = {
    'index.html': '<img src="/img/logo.png" alt="Company logo">\n<link rel="stylesheet" href="site.css">',
    'site.css': 'body { background: url(img/paper-texture.png); }',
    'src/Profile.tsx': "import avatar from './assets/user-avatar.png';\nexport const P = () => <img src={avatar} />;",
    'README.md': '![Settings](docs/settings.png)\n![Logo](public/img/logo.png)',
  };
  await mkdir(join(workspace, 'public'), { recursive: true });
  return Promise.all(
    Object.entries(files).map(async ([path, text]) => {
      const file = join(workspace, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, text);
      return { path: file, text, folder: workspace };
    }),
  );
}

const planFor = (files: SourceFile[]) =>
  planImages(files, { exists, isDirectory, isPlaceholder: globMatcher(DEFAULT_SETTINGS.placeholderGlob), styleHint: 'flat' });

describe('the extension against a real daemon', () => {
  it('generates every missing image as one set and writes each PNG to its referenced path', async () => {
    const plan = await planFor(await project());
    expect(plan.images.map((image) => [image.target, image.prompt])).toEqual([
      [join(workspace, 'public/img/logo.png'), 'a Company logo, flat'],
      [join(workspace, 'img/paper-texture.png'), 'a paper texture, flat'],
      [join(workspace, 'src/assets/user-avatar.png'), 'a user avatar icon, flat'],
      [join(workspace, 'docs/settings.png'), 'a Settings icon, flat'],
    ]);
    const client = await connect();
    const outcome = await runSet({ connection: client, images: plan.images, options: { seed: 7 }, write: writePng });
    expect(outcome).toEqual({ status: 'done', written: plan.images.map((image) => image.target) });
    for (const [index, image] of plan.images.entries()) {
      expect(await readFile(image.target)).toEqual(Buffer.from(fakePng(64, 64, 7 + index)));
    }
    // One set, so one shared style: a single job with every prompt, in order.
    expect(engine.jobs.map((job) => job.prompts)).toEqual([plan.images.map((image) => image.prompt)]);
    expect(await planFor(await project())).toEqual({ images: [], skipped: [] });
  });

  it('cancels on the daemon and keeps the images already written', async () => {
    await start({ stepDelayMs: 30 });
    const plan = await planFor(await project());
    const controller = new AbortController();
    const outcome = await runSet({ connection: await connect(), images: plan.images, write: writePng, signal: controller.signal, onWritten: () => controller.abort() });
    expect(outcome.status).toBe('cancelled');
    expect(outcome.written.length).toBeGreaterThanOrEqual(1);
    expect(outcome.written.length).toBeLessThan(plan.images.length);
    for (const target of outcome.written) expect(await exists(target)).toBe(true);
    for (const image of plan.images.slice(outcome.written.length)) expect(await exists(image.target)).toBe(false);
    await start();
  });

  it('reports a rejected token as unauthorized', async () => {
    const error = await connectDaemon(daemon.url, 'not-the-token').catch((e: unknown) => e);
    expect(describeFailure(error, daemon.url)).toMatchObject({ kind: 'unauthorized', message: expect.stringContaining('`styleset pair`') });
  });

  it('says how to start the daemon when nothing listens', async () => {
    const url = daemon.url;
    await daemon.close();
    const error = await connectDaemon(url, token).catch((e: unknown) => e);
    expect(describeFailure(error, url)).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('`styleset serve`') });
    await start();
  });

  it('names both versions when the daemon speaks another protocol version', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (socket) => socket.on('message', () => socket.send(JSON.stringify({ v: 99, id: 'r1', type: 'welcome' }))));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    const error = await connectDaemon(url, token).catch((e: unknown) => e);
    await new Promise((resolve) => server.close(resolve));
    expect(describeFailure(error, url).message).toMatch(/different protocol versions .*version 99.*version 1\)/);
  });
});
