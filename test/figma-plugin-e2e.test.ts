import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { DEFAULT_DAEMON_URL, DEFAULT_PORT, LIMITS } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { startRun, type RunHandle, type ViewState } from '../packages/figma-plugin/src/run';
import type { OpenSocket } from '../packages/figma-plugin/src/session';
import { code } from '../packages/figma-plugin/src/text';
import { buildPlugin, fakeNode, imageOf, loadMainThread as loadBuiltMainThread, pluginDir, removeBuild, type BuiltPlugin, type FakeNode } from './support/figma-plugin-host';

let built: BuiltPlugin;
let codeJs: string;
let uiHtml: string;

beforeAll(async () => {
  built = await buildPlugin();
  ({ codeJs, uiHtml } = built);
});

afterAll(async () => {
  await removeBuild(built);
});

const loadMainThread = (selection: FakeNode[], storedToken?: string) => loadBuiltMainThread(codeJs, selection, storedToken);

describe('the build', () => {
  it('writes dist/code.js as one classic script that loads no module', () => {
    expect(() => new Script(codeJs)).not.toThrow();
    expect(codeJs).not.toMatch(/\brequire\s*\(|\bimport\s*\(/);
    expect(codeJs).toMatch(/^"use strict";\n\(\(\) => \{/);
  });

  it('inlines the bundled UI script into dist/ui.html', () => {
    const scripts = [...uiHtml.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    expect(scripts[0].length).toBeGreaterThan(10_000);
    expect(() => new Script(scripts[0])).not.toThrow();
    expect(scripts[0]).not.toMatch(/\brequire\s*\(|\bimport\s*\(/);
    expect(scripts[0]).toContain(DEFAULT_DAEMON_URL);
    expect(uiHtml).not.toContain('styleset:ui-script');
    expect(scripts[0]).toContain('"ready"');
    for (const id of ['names', 'styleHint', 'token', 'generate', 'cancel', 'progress', 'preview', 'error']) expect(uiHtml).toContain(`id="${id}"`);
  });

  it('matches the manifest: its files, the daemon it may reach, dynamic page access', async () => {
    const manifest = JSON.parse(await readFile(join(pluginDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ api: '1.0.0', editorType: ['figma'], main: 'dist/code.js', ui: 'dist/ui.html', documentAccess: 'dynamic-page' });
    expect(manifest.networkAccess.allowedDomains).toEqual([`ws://localhost:${DEFAULT_PORT}`, DEFAULT_DAEMON_URL]);
    expect(manifest.networkAccess.reasoning).toMatch(/local Styleset daemon/);
  });
});

describe('the main thread', () => {
  it('shows the UI and, once it is ready, tells it the stored token and the selected frame', async () => {
    const fake = await loadMainThread([fakeNode('FRAME', 'Icons', 400, 300)], 'stored');
    expect(fake.figma.shown).toMatchObject({ html: '<p>ui</p>', options: { themeColors: true } });
    expect(fake.posted).toEqual([{ type: 'init', token: 'stored', selection: { frame: { name: 'Icons', width: 400, height: 300 } } }]);
    fake.figma.currentPage.selection = [];
    fake.listeners.get('selectionchange')!();
    expect(fake.posted.at(-1)).toEqual({ type: 'selection', selection: { frame: null, hint: 'Select a frame: the images go inside it.' } });
  });

  it('stores the token the UI sends', async () => {
    const fake = await loadMainThread([]);
    expect(fake.posted[0]).toMatchObject({ type: 'init', token: '' });
    fake.send({ type: 'save-token', token: 'new' });
    await Promise.resolve();
    expect(fake.storage.get('styleset.token')).toBe('new');
  });

  it('places each image in its grid cell of the frame fixed at the start, then notifies a summary', async () => {
    const frame = fakeNode('FRAME', 'Icons', 400, 400);
    const fake = await loadMainThread([frame]);
    fake.send({ type: 'begin', count: 4 });
    // Selecting something else mid-run does not move the images.
    fake.figma.currentPage.selection = [fakeNode('FRAME', 'Other', 10, 10)];
    const names = ['home', 'search', 'settings', 'profile'];
    for (const index of [2, 0, 3, 1]) {
      fake.send({ type: 'image', index, name: names[index], png: new Uint8Array([index]), width: 64, height: 64 });
    }
    fake.send({ type: 'end', end: { status: 'done' } });
    const placed = Object.fromEntries(frame.children.map((node) => [node.name, [node.x, node.y, node.width, node.height]]));
    expect(placed).toEqual({ home: [16, 16, 176, 176], search: [208, 16, 176, 176], settings: [16, 208, 176, 176], profile: [208, 208, 176, 176] });
    expect(frame.children.every((node) => node.type === 'RECTANGLE')).toBe(true);
    expect(frame.children[0].fills).toEqual([{ type: 'IMAGE', imageHash: expect.any(String), scaleMode: 'FIT' }]);
    expect(frame.children.map((node) => imageOf(fake, node)?.[0])).toEqual([2, 0, 3, 1]);
    expect(fake.notices).toEqual([{ message: 'Styleset placed 4 images in “Icons”.', options: { error: false, timeout: 4000 } }]);
    expect(fake.posted.at(-1)).toEqual({ type: 'summary', status: 'Placed 4 images in “Icons”.', error: false });
  });

  it('leaves the positions in an auto-layout frame to its layout', async () => {
    const frame = Object.assign(fakeNode('FRAME', 'Row', 400, 100), { layoutMode: 'HORIZONTAL' });
    const fake = await loadMainThread([frame]);
    fake.send({ type: 'begin', count: 2 });
    fake.send({ type: 'image', index: 1, name: 'search', png: new Uint8Array([1]), width: 64, height: 64 });
    expect(frame.children.map((node) => [node.name, node.x, node.y, node.width, node.height])).toEqual([['search', 0, 0, 92, 92]]);
  });

  it('refuses to begin without a selected frame', async () => {
    const fake = await loadMainThread([fakeNode('TEXT', 'Title', 10, 10)]);
    fake.send({ type: 'begin', count: 2 });
    fake.send({ type: 'image', index: 0, name: 'home', png: new Uint8Array([1]), width: 64, height: 64 });
    expect(fake.posted.at(-1)).toEqual({ type: 'no-target', message: 'Select a frame first: the images go inside it.' });
  });

  it('stops placing into a frame deleted mid-run, tells the UI to stop, and counts what was placed', async () => {
    const frame = fakeNode('FRAME', 'Icons', 400, 400);
    const fake = await loadMainThread([frame]);
    fake.send({ type: 'begin', count: 3 });
    fake.send({ type: 'image', index: 0, name: 'home', png: new Uint8Array([1]), width: 64, height: 64 });
    frame.removed = true;
    fake.send({ type: 'image', index: 1, name: 'search', png: new Uint8Array([2]), width: 64, height: 64 });
    // The UI had all the images before it heard: the run ends as done, but the count is the main thread's.
    fake.send({ type: 'image', index: 2, name: 'settings', png: new Uint8Array([3]), width: 64, height: 64 });
    fake.send({ type: 'end', end: { status: 'done' } });
    expect(frame.children.map((node) => node.name)).toEqual(['home']);
    expect(fake.posted.slice(1)).toEqual([
      { type: 'target-deleted' },
      { type: 'summary', status: 'Stopped: the frame “Icons” was deleted; 2 of 3 images were not placed.', error: true },
    ]);
    expect(fake.notices).toEqual([
      { message: 'Styleset stopped: the frame “Icons” was deleted; 2 of 3 images were not placed.', options: { error: true, timeout: 10_000 } },
    ]);
  });

  it('notices a frame deleted while no image came, when the run ends', async () => {
    const frame = fakeNode('FRAME', 'Icons', 400, 400);
    const fake = await loadMainThread([frame]);
    fake.send({ type: 'begin', count: 2 });
    frame.removed = true;
    // Reading a deleted node's name throws in Figma: the summary must not need it.
    Object.defineProperty(frame, 'name', {
      get: () => {
        throw new Error('The node with id 1:1 does not exist');
      },
    });
    fake.send({ type: 'end', end: { status: 'failed', message: 'The daemon stopped.' } });
    expect(fake.notices.map((notice) => notice.message)).toEqual(['Styleset stopped: the frame “Icons” was deleted; 2 of 2 images were not placed.']);
    expect(fake.posted.at(-1)).toEqual({ type: 'summary', status: 'Stopped: the frame “Icons” was deleted; 2 of 2 images were not placed.', error: true });
  });
});

/** `ws` behind the session's socket interface, as the browser adapter puts the browser's WebSocket. */
const openNodeSocket: OpenSocket = (url, listener) => {
  const socket = new WebSocket(url, { maxPayload: LIMITS.maxBinaryFrameBytes });
  socket.on('open', () => listener.open());
  socket.on('message', (data, isBinary) => listener.frame(isBinary ? (data as Buffer) : data.toString()));
  socket.on('close', (code, reason) => listener.close(code, reason.toString()));
  // A failed connection also closes; the close carries the outcome.
  socket.on('error', () => {});
  return { send: (frame) => socket.send(frame), close: () => socket.close(1000) };
};

describe('against a real daemon', () => {
  let root: string;
  let daemon: Daemon;
  let token: string;

  async function start(engine: FakeEngineOptions = {}) {
    await daemon?.close();
    daemon = await startDaemon({ engine: new FakeEngine(engine), dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'styleset-figma-e2e-'));
    token = await loadOrCreateToken(join(root, 'config'));
    await start();
  });

  afterAll(async () => {
    await daemon.close();
    await rm(root, { recursive: true, force: true });
  });

  /** The UI's run over a real WebSocket, wired to the built main thread as Figma wires them. */
  async function run(names: string, options: { token?: string; url?: string; stopAfterImages?: number } = {}) {
    const frame = fakeNode('FRAME', 'Tab bar', 600, 200);
    const main = await loadMainThread([frame]);
    const views: ViewState[] = [];
    let handle: RunHandle | undefined;
    let images = 0;
    const finished = new Promise<void>((resolve) => {
      handle = startRun(
        { names, styleHint: 'flat', token: options.token ?? token },
        { frame: { name: frame.name, width: frame.width, height: frame.height } },
        {
          url: options.url ?? daemon.url,
          openSocket: openNodeSocket,
          toMain: (message) => {
            main.send(message);
            if (message.type === 'image' && ++images === options.stopAfterImages) handle!.stop();
          },
          render: (view) => {
            views.push(view);
            if (!view.busy) resolve();
          },
        },
      );
    });
    await finished;
    return { frame, main, views, final: views.at(-1)! };
  }

  it('generates the set and places every PNG in the frame, named and laid out in a grid', async () => {
    const { frame, main, final } = await run('home, search, settings, profile');
    expect(final).toMatchObject({ busy: false, status: 'Made 4 of 4 images.' });
    expect(main.posted.at(-1)).toEqual({ type: 'summary', status: 'Placed 4 images in “Tab bar”.', error: false });
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search', 'settings', 'profile']);
    // 600 x 200, gap 8: one row of four 140-pixel cells beats two rows of 88.
    expect(frame.children.map((node) => [node.x, node.y, node.width, node.height])).toEqual([
      [8, 30, 140, 140],
      [156, 30, 140, 140],
      [304, 30, 140, 140],
      [452, 30, 140, 140],
    ]);
    const [job] = await readdir(join(root, 'data', 'jobs'));
    for (const [index, node] of frame.children.entries()) {
      const stored = await readFile(join(root, 'data', 'jobs', job, `0${index}.png`));
      expect(Buffer.from(imageOf(main, node)!)).toEqual(stored);
    }
    expect(main.notices).toEqual([{ message: 'Styleset placed 4 images in “Tab bar”.', options: { error: false, timeout: 4000 } }]);
  });

  it('asks for the right token when the daemon rejects it', async () => {
    const { frame, main, final } = await run('home', { token: 'not-the-token' });
    expect(final.error).toEqual({ field: 'token', message: expect.arrayContaining([code('npx styleset pair')]) });
    expect(frame.children).toEqual([]);
    expect(main.notices[0]).toMatchObject({ message: expect.stringMatching(/^Styleset placed nothing: .*pairing token/), options: { error: true } });
  });

  it('cancels on the daemon, keeping the images placed so far', async () => {
    // The engine waits before the second image until the cancel aborts it: no race with the clock.
    await start({ holdBeforeImage: 1 });
    const { frame, main, final } = await run('home, search, settings, profile', { stopAfterImages: 1 });
    expect(final).toMatchObject({ busy: false, status: 'Cancelled after 1 of 4 images.' });
    expect(frame.children.map((node) => node.name)).toEqual(['home']);
    expect(main.notices.map((notice) => notice.message)).toEqual(['Styleset cancelled: 1 of 4 images placed in “Tab bar”.']);
    expect(main.posted.at(-1)).toEqual({ type: 'summary', status: 'Cancelled: 1 of 4 images placed in “Tab bar”.', error: false });
  });

  it('says how to start the daemon when nothing listens', async () => {
    const url = daemon.url;
    await daemon.close();
    const { final } = await run('home', { url });
    expect(final.error?.message).toEqual([`The Styleset daemon is not running at ${url}. Start it in a terminal with `, code('npx styleset serve'), ', or at every login with ', code('styleset service install'), ', then try again.']);
    await start();
  });
});
