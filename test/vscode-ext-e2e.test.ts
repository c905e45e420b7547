import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, fakePng, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { connectDaemon, type StylesetClient } from '../packages/vscode-ext/src/daemon';
import { explainFailure } from '../packages/vscode-ext/src/failures';
import { exists, isDirectory, writeImage } from '../packages/vscode-ext/src/files';
import { globMatcher } from '../packages/vscode-ext/src/glob';
import { planImages, type SourceFile } from '../packages/vscode-ext/src/plan';
import { runSet, type SetImage } from '../packages/vscode-ext/src/runner';
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

const writePng = async (image: SetImage, png: Uint8Array) => (await writeImage({ folder: workspace, target: image.target, bytes: png, replace: false }), true);

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
    // The engine holds before the second image until the cancel reaches it: no race with the clock.
    await start({ holdBeforeImage: 1 });
    const plan = await planFor(await project());
    const controller = new AbortController();
    const outcome = await runSet({ connection: await connect(), images: plan.images, write: writePng, signal: controller.signal, onWritten: () => controller.abort() });
    expect(outcome).toEqual({ status: 'cancelled', written: [plan.images[0].target] });
    expect(await exists(plan.images[0].target)).toBe(true);
    for (const image of plan.images.slice(1)) expect(await exists(image.target)).toBe(false);
    await start();
  });

  it('asks for the token when the daemon rejects it', async () => {
    const error = await connectDaemon(daemon.url, 'not-the-token').catch((e: unknown) => e);
    expect(explainFailure(error, { url: daemon.url })).toMatchObject({
      message: "Styleset: enter the token that 'styleset pair' prints. The daemon did not accept the stored pairing token.",
      actions: [{ kind: 'enterToken' }],
    });
  });

  it('offers to start the daemon when nothing listens (a real refused connection)', async () => {
    const url = daemon.url;
    await daemon.close();
    const error = await connectDaemon(url, token).catch((e: unknown) => e);
    expect(explainFailure(error, { url })).toEqual({
      message: `Styleset: start the daemon, then retry. Nothing answers at ${url}; 'styleset service install' starts the daemon at every login.`,
      instruction: 'Start the daemon, then retry',
      // Whole, for the output channel.
      detail: expect.stringMatching(/ECONNREFUSED/),
      actions: [{ kind: 'startDaemon' }, { kind: 'retry' }, { kind: 'openSettings', setting: 'styleset.daemonUrl' }],
    });
    // The same refusal through the name localhost, which Node may try on both ::1 and 127.0.0.1.
    const byName = url.replace('127.0.0.1', 'localhost');
    const viaLocalhost = await connectDaemon(byName, token).catch((e: unknown) => e);
    expect(explainFailure(viaLocalhost, { url: byName }).actions[0]).toEqual({ kind: 'startDaemon' });
    await start();
  });

  it('offers a retry when the daemon goes away during a job', async () => {
    await start({ stepDelayMs: 30 });
    const plan = await planFor(await project());
    const client = await connect();
    const outcome = await runSet({ connection: client, images: plan.images, write: writePng, onProgress: () => void daemon.close() });
    expect(outcome.status).toBe('failed');
    const failure = explainFailure(outcome.error, { url: daemon.url });
    // A daemon that stops marks the job interrupted, unless the connection closes first.
    expect(['interrupted', 'connection_closed']).toContain((outcome.error as { code: string }).code);
    expect(failure.message).toMatch(/^Styleset: retry(?: once the daemon runs again|: the connection to the daemon was lost)\. /);
    expect(failure.actions).toEqual([{ kind: 'retry' }, { kind: 'startDaemon' }]);
    await start();
  });

  it('names both versions when the daemon speaks another protocol version', async () => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    server.on('connection', (socket) => socket.on('message', () => socket.send(JSON.stringify({ v: 99, id: 'r1', type: 'welcome' }))));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
    const error = await connectDaemon(url, token).catch((e: unknown) => e);
    await new Promise((resolve) => server.close(resolve));
    const failure = explainFailure(error, { url });
    expect(failure.message).toMatch(/^Styleset: update the extension or the daemon, whichever is older\. .*version 99.*version 1/);
    expect(failure.actions).toEqual([]);
  });
});
