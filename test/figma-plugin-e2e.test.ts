import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { DEFAULT_DAEMON_URL, DEFAULT_PORT, LIMITS } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, fakePng, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { ASSET_KEY, PNG_OUTPUT, encodeAssetRecord, parseAssetRecord, type AssetRecord } from '../packages/figma-plugin/src/asset-record';
import { DaemonProblem, type OpenSocket } from '../packages/figma-plugin/src/daemon-client';
import type { MainToUi, PlacedAsset, RunPlan } from '../packages/figma-plugin/src/messages';
import { startRegenerate, startSetRun, type RunHandle, type ViewState } from '../packages/figma-plugin/src/run';
import type { SelectionInfo } from '../packages/figma-plugin/src/selection';
import type { CanvasStyle } from '../packages/figma-plugin/src/style';
import { code } from '../packages/figma-plugin/src/text';
import { FigmaStub, type StubNode } from './support/figma-stub';
import { buildPlugin, imageOf, layersOf, loadMainThread, nodeStub, pluginDir, removeBuild, settleMainThread, type BuiltPlugin, type MainThread } from './support/figma-plugin-host';

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

describe('the build', () => {
  it('writes dist/code.js as one classic script that loads no module and carries no protocol schemas', () => {
    expect(() => new Script(codeJs)).not.toThrow();
    expect(codeJs).not.toMatch(/\brequire\s*\(|\bimport\s*\(/);
    expect(codeJs).toMatch(/^"use strict";\n\(\(\) => \{/);
    // The main thread never speaks to the daemon: zod (the protocol's validation) stays out of it.
    expect(codeJs).not.toMatch(/ZodError|\$ZodType/);
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
    for (const id of ['use-style', 'referencePrompt', 'names', 'styleHint', 'url', 'token', 'generate', 'cancel', 'regenerate', 'progress', 'preview', 'error']) {
      expect(uiHtml).toContain(`id="${id}"`);
    }
  });

  it('matches the manifest: its files, the local daemon it may reach (with the reason), dynamic page access', async () => {
    const manifest = JSON.parse(await readFile(join(pluginDir, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ api: '1.0.0', editorType: ['figma'], main: 'dist/code.js', ui: 'dist/ui.html', documentAccess: 'dynamic-page' });
    expect(manifest.networkAccess.allowedDomains).toEqual([DEFAULT_DAEMON_URL, `ws://localhost:${DEFAULT_PORT}`]);
    // The default address is allowed as the plugin writes it: Figma compares origins.
    expect(manifest.networkAccess.allowedDomains).toContain(new URL(DEFAULT_DAEMON_URL).origin);
    expect(manifest.networkAccess.reasoning).toMatch(/Styleset daemon/);
    // The local daemon is what the published plugin is for: not a development-only address.
    expect(manifest.networkAccess.devAllowedDomains ?? []).not.toContain(DEFAULT_DAEMON_URL);
  });
});

/** A 64 x 64 icon on the canvas, as the style's layer: its fill is what the Node host exports. */
function canvasWithStar(stub: FigmaStub) {
  const board = stub.add('FRAME', 'Board', { x: 100, y: 50, width: 300, height: 200 });
  const star = stub.add('RECTANGLE', 'star', { x: 40, y: 30, width: 48, height: 48 }, board, [{ type: 'IMAGE', imageHash: stub.addImage(fakePng(64, 64, 1)), scaleMode: 'FIT' }]);
  return { board, star };
}

const asset = (index: number, name: string, seed = index, style: AssetRecord['style'] = null): PlacedAsset => ({
  index,
  record: { name, prompt: `a ${name} icon`, seed, output: PNG_OUTPUT, style },
  image: { format: 'png', png: new Uint8Array([index + 1]) },
  width: 64,
  height: 64,
});

/** An SVG as the daemon traces one: a viewBox of the raster's size, one path per colour. */
const svgOf = (colors: string[], size = 64) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}">${colors.map((c, i) => `<path fill="${c}" d="M${i} 0h8v8z"/>`).join('')}</svg>`;

const setPlan = (count: number, destination: Extract<RunPlan, { kind: 'set' }>['destination'], setName = 'Icons'): RunPlan => ({ kind: 'set', count, destination, setName });

describe('the main thread', () => {
  it('shows the UI and, once it is ready, tells it what is stored and what is selected', async () => {
    const stub = nodeStub({ 'styleset.settings': { url: 'wss://team.example', tokens: {} }, 'styleset.token': 'old' });
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 300 });
    stub.select([frame]);
    const main = await loadMainThread(codeJs, stub);
    expect(stub.shownUi).toMatchObject({ html: '<p>ui</p>', options: { themeColors: true, width: 340, height: 640 } });
    expect(main.posted).toEqual([
      {
        type: 'init',
        stored: { settings: { url: 'wss://team.example', tokens: {} }, legacyToken: 'old' },
        selection: { kind: 'one', node: { id: frame.id, name: 'Icons', type: 'FRAME', width: 400, height: 300 }, container: true },
      },
    ]);
    stub.select([]);
    expect(main.posted.at(-1)).toEqual({ type: 'selection', selection: { kind: 'none' } });
  });

  it('stores the settings the UI sends, in client storage, not in the document', async () => {
    const main = await loadMainThread(codeJs);
    const settings = { url: DEFAULT_DAEMON_URL, tokens: { [DEFAULT_DAEMON_URL]: 'secret' } };
    await main.send({ type: 'save-settings', settings });
    expect(main.stub.storage.get('styleset.settings')).toEqual(settings);
    expect(main.stub.snapshot()).toEqual([]);
  });

  it('takes the selected layer as the style: a thumbnail for the panel and a prompt from its name', async () => {
    const stub = nodeStub();
    const { star } = canvasWithStar(stub);
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'use-as-style' });
    expect(main.posted.at(-1)).toEqual({ type: 'style-refused', message: 'Select the layer to use as the style first.' });
    stub.select([star]);
    await main.send({ type: 'use-as-style' });
    expect(main.posted.at(-1)).toEqual({
      type: 'style',
      style: { kind: 'canvas', nodeId: star.id, name: 'star', width: 48, height: 48, thumbnail: fakePng(64, 64, 1), suggestedPrompt: 'a star icon' },
    });
    expect(stub.calls.find((call) => call.api === 'exportAsync')).toEqual({ api: 'exportAsync', args: [star.id, { format: 'PNG', constraint: { type: 'WIDTH', value: 96 } }] });
    // A layer with nothing to export is refused with a reason.
    const empty = stub.add('FRAME', 'Frame 3', { width: 10, height: 10 });
    stub.select([empty]);
    await main.send({ type: 'use-as-style' });
    expect(main.posted.at(-1)).toEqual({ type: 'style-refused', message: 'Figma could not export “Frame 3” as an image: pick a layer with something visible in it.' });
  });

  it('exports the style’s layer at the size asked for, and says so when the layer is gone', async () => {
    const stub = nodeStub();
    const { star } = canvasWithStar(stub);
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'export-reference', requestId: 3, nodeId: star.id, width: 64, height: 64 });
    expect(main.posted.at(-1)).toEqual({ type: 'reference', requestId: 3, png: fakePng(64, 64, 1) });
    expect(stub.calls.filter((call) => call.api === 'exportAsync').at(-1)?.args[1]).toEqual({ format: 'PNG', constraint: { type: 'WIDTH', value: 64 } });
    stub.deleteNode(star);
    await main.send({ type: 'export-reference', requestId: 4, nodeId: star.id, width: 64, height: 64 });
    expect(main.posted.at(-1)).toEqual({ type: 'reference-failed', requestId: 4, message: 'The style’s layer is no longer in this file: select a layer and click Use as style again.' });
  });

  it('places each image in its grid cell of the selected frame, one undo step each, then notifies a summary', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 400 });
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(4, { kind: 'frame', nodeId: frame.id, name: 'Icons' }) });
    // Selecting something else mid-run does not move the images.
    stub.select([stub.add('FRAME', 'Other', { width: 10, height: 10 })]);
    const names = ['home', 'search', 'settings', 'profile'];
    for (const index of [2, 0, 3, 1]) await main.send({ type: 'asset', asset: asset(index, names[index]) });
    await main.send({ type: 'end', end: { status: 'done' } });
    expect(layersOf(frame)).toEqual([
      { name: 'settings', x: 16, y: 208, width: 176, height: 176 },
      { name: 'home', x: 16, y: 16, width: 176, height: 176 },
      { name: 'profile', x: 208, y: 208, width: 176, height: 176 },
      { name: 'search', x: 208, y: 16, width: 176, height: 176 },
    ]);
    expect(frame.children.every((node) => node.type === 'RECTANGLE')).toBe(true);
    expect(frame.children[0].fills).toEqual([{ type: 'IMAGE', imageHash: expect.any(String), scaleMode: 'FIT' }]);
    expect(frame.children.map((node) => imageOf(stub, node)?.[0])).toEqual([3, 1, 4, 2]);
    expect(parseAssetRecord(frame.children[1].getPluginData(ASSET_KEY))).toEqual({ name: 'home', prompt: 'a home icon', seed: 0, output: PNG_OUTPUT, style: null });
    // One undo step per image: each holds that image's layer and nothing else's.
    expect(stub.history).toHaveLength(4);
    expect(stub.history.map((step) => step.filter((change) => change.startsWith('insert RECTANGLE')))).toEqual([
      ['insert RECTANGLE “Rectangle” into “Page 1”', 'insert RECTANGLE “settings” into “Icons”'],
      ['insert RECTANGLE “Rectangle” into “Page 1”', 'insert RECTANGLE “home” into “Icons”'],
      ['insert RECTANGLE “Rectangle” into “Page 1”', 'insert RECTANGLE “profile” into “Icons”'],
      ['insert RECTANGLE “Rectangle” into “Page 1”', 'insert RECTANGLE “search” into “Icons”'],
    ]);
    stub.pressUndo();
    expect(frame.children.map((node) => node.name)).toEqual(['settings', 'home', 'profile']);
    expect(stub.notices).toEqual([{ message: 'Styleset placed 4 images in “Icons”.', options: { error: false, timeout: 4000 } }]);
    expect(main.posted.at(-1)).toEqual({ type: 'summary', status: 'Placed 4 images in “Icons”.', error: false });
  });

  it('makes a new frame next to the style’s layer for a set in its style, at the first image', async () => {
    const stub = nodeStub();
    const { board, star } = canvasWithStar(stub);
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(3, { kind: 'new-frame', nextTo: { nodeId: star.id, name: 'star' } }, 'star set') });
    expect(stub.page.children).toEqual([board]);
    const style = { referencePrompt: 'a star icon', inversionJobId: 'inv1', referenceNodeId: star.id, referenceName: 'star' };
    for (const [index, name] of ['home', 'search', 'settings'].entries()) await main.send({ type: 'asset', asset: asset(index, name, 10 + index, style) });
    await main.send({ type: 'end', end: { status: 'done' } });
    const frame = stub.page.children[1];
    // Right of the board the star sits in (100 + 300 + 80), level with the star (50 + 30); 48 px
    // cells a quarter cell (12 px) apart: 3 * 48 + 4 * 12 = 192 by 72.
    expect({ name: frame.name, type: frame.type, x: frame.x, y: frame.y, width: frame.width, height: frame.height }).toEqual({
      name: 'star set',
      type: 'FRAME',
      x: 480,
      y: 80,
      width: 192,
      height: 72,
    });
    expect(layersOf(frame)).toEqual([
      { name: 'home', x: 12, y: 12, width: 48, height: 48 },
      { name: 'search', x: 72, y: 12, width: 48, height: 48 },
      { name: 'settings', x: 132, y: 12, width: 48, height: 48 },
    ]);
    expect(frame.children.map((node) => parseAssetRecord(node.getPluginData(ASSET_KEY)))).toEqual([
      { name: 'home', prompt: 'a home icon', seed: 10, output: PNG_OUTPUT, style },
      { name: 'search', prompt: 'a search icon', seed: 11, output: PNG_OUTPUT, style },
      { name: 'settings', prompt: 'a settings icon', seed: 12, output: PNG_OUTPUT, style },
    ]);
    expect(stub.notices.map((notice) => notice.message)).toEqual(['Styleset placed 3 images in “star set”.']);
    // The first image's undo step also holds the frame made for it: undoing it leaves no empty frame.
    expect(stub.history).toHaveLength(3);
    stub.pressUndo();
    stub.pressUndo();
    expect(frame.children.map((node) => node.name)).toEqual(['home']);
    stub.pressUndo();
    expect(stub.page.children).toEqual([board]);
  });

  it('brings a new frame into view only when it is off screen', async () => {
    for (const [viewport, scrolls] of [[{ x: 0, y: 0, width: 1440, height: 900 }, 0], [{ x: 0, y: 0, width: 500, height: 500 }, 1]] as const) {
      const stub = new FigmaStub({ render: async () => new Uint8Array(), viewport });
      const { star } = canvasWithStar(stub);
      const main = await loadMainThread(codeJs, stub);
      await main.send({ type: 'begin', plan: setPlan(2, { kind: 'new-frame', nextTo: { nodeId: star.id, name: 'star' } }, 'star set') });
      await main.send({ type: 'asset', asset: asset(0, 'home') });
      expect(stub.calls.filter((call) => call.api === 'scrollAndZoomIntoView')).toHaveLength(scrolls);
    }
  });

  it('regenerates a layer in place: same parent, place, size and name, a new image and seed, one undo step', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 100 });
    const style = { referencePrompt: 'a star icon', inversionJobId: 'inv1', referenceNodeId: '1:1', referenceName: 'star' };
    const layers = ['home', 'search', 'settings'].map((name, i) => {
      const layer = stub.add('RECTANGLE', name, { x: 10 + 60 * i, y: 10, width: 48, height: 48 }, frame, [{ type: 'IMAGE', imageHash: stub.addImage(new Uint8Array([90 + i])), scaleMode: 'FIT' }]);
      layer.setPluginData(ASSET_KEY, encodeAssetRecord({ name, prompt: `a ${name} icon`, seed: i, output: PNG_OUTPUT, style }));
      return layer;
    });
    const main = await loadMainThread(codeJs, stub);
    const undoBefore = stub.history.length;
    await main.send({ type: 'begin', plan: { kind: 'regenerate', nodeId: layers[1].id } });
    await main.send({ type: 'asset', asset: asset(0, 'search', 777, style) });
    await main.send({ type: 'end', end: { status: 'done' } });
    const replaced = frame.children[1];
    expect(replaced).not.toBe(layers[1]);
    expect(layers[1].removed).toBe(true);
    expect(frame.children.map((node) => node.id)).toEqual([layers[0].id, replaced.id, layers[2].id]);
    expect(layersOf(frame)[1]).toEqual({ name: 'search', x: 70, y: 10, width: 48, height: 48 });
    expect(imageOf(stub, replaced)).toEqual(new Uint8Array([1]));
    expect(parseAssetRecord(replaced.getPluginData(ASSET_KEY))?.seed).toBe(777);
    expect(main.stub.api.currentPage.selection).toEqual([replaced]);
    expect(stub.notices.at(-1)?.message).toBe('Styleset replaced “search”.');
    expect(stub.history.length - undoBefore).toBe(1);
    stub.pressUndo();
    expect(frame.children).toEqual(layers);
    expect(imageOf(stub, frame.children[1])).toEqual(new Uint8Array([91]));
  });

  it('places an SVG as the vector layers Figma makes of it, scaled to its cell and centred, named after its asset', async () => {
    const stub = nodeStub();
    const { star } = canvasWithStar(stub);
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(2, { kind: 'new-frame', nextTo: { nodeId: star.id, name: 'star' } }, 'star set') });
    const svgOutput = { format: 'svg' as const, transparent: true };
    const svg = svgOf(['#112233', '#f58220']);
    await main.send({ type: 'asset', asset: { ...asset(0, 'home'), record: { ...asset(0, 'home').record, output: svgOutput }, image: { format: 'svg', svg } } });
    // A wide SVG (its raster 64 x 32) fits its 48 x 24 cell; a PNG beside it stays a rectangle.
    const wide = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 32"><path fill="#112233" d="M0 0h8v8z"/></svg>`;
    await main.send({ type: 'asset', asset: { ...asset(1, 'search'), image: { format: 'svg', svg: wide }, width: 64, height: 64 } });
    const frame = stub.page.children.at(-1)!;
    expect(stub.calls.filter((call) => call.api === 'createNodeFromSvg').map((call) => call.args[0])).toEqual([svg, wide]);
    expect(frame.children.map((node) => ({ type: node.type, name: node.name, svg: node.svg, x: node.x, y: node.y, width: node.width, height: node.height }))).toEqual([
      { type: 'FRAME', name: 'home', svg, x: 12, y: 12, width: 48, height: 48 },
      // 64 x 32 scaled by 48 / 64: 48 x 24, centred in its 48 px cell at (72, 12).
      { type: 'FRAME', name: 'search', svg: wide, x: 72, y: 24, width: 48, height: 24 },
    ]);
    expect(parseAssetRecord(frame.children[0].getPluginData(ASSET_KEY))?.output).toEqual(svgOutput);
    expect(stub.history).toHaveLength(2);
  });

  it('makes the set’s palette local paint styles named after the set, one undo step, and counts them in the summary', async () => {
    const stub = nodeStub();
    const { star } = canvasWithStar(stub);
    // A style of that name from an earlier run of the same set takes the new colour, not a duplicate.
    const earlier = stub.api.createPaintStyle();
    earlier.name = 'star set/#112233';
    stub.api.commitUndo();
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(1, { kind: 'new-frame', nextTo: { nodeId: star.id, name: 'star' } }, 'star set') });
    await main.send({ type: 'asset', asset: { ...asset(0, 'home'), image: { format: 'svg', svg: svgOf(['#112233', '#f58220']) } } });
    await main.send({ type: 'palette', colors: ['#112233', '#f58220'], total: 2 });
    await main.send({ type: 'end', end: { status: 'done' } });
    expect(stub.paintStyles.map((style) => ({ name: style.name, paints: style.paints }))).toEqual([
      { name: 'star set/#112233', paints: [{ type: 'SOLID', color: { r: 0x11 / 255, g: 0x22 / 255, b: 0x33 / 255 } }] },
      { name: 'star set/#f58220', paints: [{ type: 'SOLID', color: { r: 0xf5 / 255, g: 0x82 / 255, b: 0x20 / 255 } }] },
    ]);
    expect(stub.paintStyles[0]).toBe(earlier);
    expect(stub.notices.map((notice) => notice.message)).toEqual(['Styleset placed 1 image in “star set”; its 2 colours are paint styles “star set/…”.']);
    // The image, then the styles: two undo steps after the earlier one.
    expect(stub.history).toHaveLength(3);
    expect(stub.history[2]).toEqual(['create paint style']);
  });

  it('leaves the positions in an auto-layout frame to its layout', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Row', { width: 400, height: 100 });
    frame.layoutMode = 'HORIZONTAL';
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(2, { kind: 'frame', nodeId: frame.id, name: 'Row' }) });
    await main.send({ type: 'asset', asset: asset(1, 'search') });
    expect(layersOf(frame)).toEqual([{ name: 'search', x: 0, y: 0, width: 92, height: 92 }]);
  });

  it('refuses to begin into a frame that is gone', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 400 });
    const main = await loadMainThread(codeJs, stub);
    stub.deleteNode(frame);
    await main.send({ type: 'begin', plan: setPlan(2, { kind: 'frame', nodeId: frame.id, name: 'Icons' }) });
    await main.send({ type: 'asset', asset: asset(0, 'home') });
    expect(main.posted.at(-1)).toEqual({ type: 'no-target', message: 'The frame “Icons” is no longer in this file: select a frame to fill.' });
    expect(frame.children).toEqual([]);
  });

  it('stops placing into a frame deleted mid-run, tells the UI to stop, and counts what was placed', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 400 });
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(3, { kind: 'frame', nodeId: frame.id, name: 'Icons' }) });
    await main.send({ type: 'asset', asset: asset(0, 'home') });
    stub.deleteNode(frame);
    await main.send({ type: 'asset', asset: asset(1, 'search') });
    // The UI had all the images before it heard: the run ends as done, but the count is the main thread's.
    await main.send({ type: 'asset', asset: asset(2, 'settings') });
    await main.send({ type: 'end', end: { status: 'done' } });
    // The frame is deleted: read as data, since reading a deleted node's name throws.
    expect(frame.snapshot().children.map((node) => node.name)).toEqual(['home']);
    expect(main.posted.slice(1)).toEqual([
      { type: 'target-deleted' },
      { type: 'summary', status: 'Stopped: the frame “Icons” was deleted; 2 of 3 images were not placed.', error: true },
    ]);
    expect(stub.notices).toEqual([{ message: 'Styleset stopped: the frame “Icons” was deleted; 2 of 3 images were not placed.', options: { error: true, timeout: 10_000 } }]);
  });

  it('notices a frame deleted while no image came, when the run ends, without reading the deleted frame', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Icons', { width: 400, height: 400 });
    const main = await loadMainThread(codeJs, stub);
    await main.send({ type: 'begin', plan: setPlan(2, { kind: 'frame', nodeId: frame.id, name: 'Icons' }) });
    // Reading a deleted node's name throws in Figma, and in the stub: the summary must not need it.
    stub.deleteNode(frame);
    await main.send({ type: 'end', end: { status: 'failed', message: 'The daemon stopped.' } });
    expect(stub.notices.map((notice) => notice.message)).toEqual(['Styleset stopped: the frame “Icons” was deleted; 2 of 2 images were not placed.']);
    expect(main.posted.at(-1)).toEqual({ type: 'summary', status: 'Stopped: the frame “Icons” was deleted; 2 of 2 images were not placed.', error: true });
  });
});

/** `ws` behind the client's socket interface, as the browser adapter puts the browser's WebSocket. */
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
  let engine: FakeEngine;
  let token: string;

  async function start(options: FakeEngineOptions = {}) {
    await daemon?.close();
    engine = new FakeEngine(options);
    daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
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

  /**
   * The UI's run over a real WebSocket, wired to the built main thread as Figma wires them: its
   * messages go to the main thread, and the main thread's exports and stops come back to it.
   */
  async function wired(main: MainThread, begin: (deps: Parameters<typeof startSetRun>[3]) => RunHandle | undefined, options: { token?: string; url?: string; stopAfterImages?: number } = {}) {
    const views: ViewState[] = [];
    let handle: RunHandle | undefined;
    let images = 0;
    let requestId = 0;
    const reply = (): MainToUi | undefined => main.posted.at(-1);
    const finished = new Promise<void>((resolve) => {
      handle = begin({
        url: options.url ?? daemon.url,
        token: options.token ?? token,
        openSocket: openNodeSocket,
        toMain: (message) => {
          void main.send(message).then(() => {
            const last = reply();
            if (last?.type === 'no-target') handle?.stop(last.message);
            if (last?.type === 'target-deleted') handle?.stop();
          });
          if (message.type === 'asset' && ++images === options.stopAfterImages) handle!.stop();
        },
        exportReference: async (nodeId, width, height) => {
          const id = ++requestId;
          await main.send({ type: 'export-reference', requestId: id, nodeId, width, height });
          const answer = main.posted.find((m) => (m.type === 'reference' || m.type === 'reference-failed') && m.requestId === id);
          if (answer?.type === 'reference') return answer.png;
          throw new DaemonProblem({ code: 'reference_unavailable', message: answer?.type === 'reference-failed' ? answer.message : 'no answer' });
        },
        render: (view) => {
          views.push(view);
          if (!view.busy) resolve();
        },
        newSeed: (avoid) => (avoid + 1000) >>> 0,
      });
    });
    await finished;
    // The main thread's summary comes after the run's end.
    await settleMainThread();
    return { views, final: views.at(-1)! };
  }

  const frameSelection = (frame: StubNode): SelectionInfo => ({ kind: 'one', node: { id: frame.id, name: frame.name, type: 'FRAME', width: frame.width, height: frame.height }, container: true });

  async function namesIntoFrame(names: string, options: { token?: string; url?: string; stopAfterImages?: number } = {}) {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Tab bar', { width: 600, height: 200 });
    const main = await loadMainThread(codeJs, stub);
    const run = await wired(main, (deps) => startSetRun({ names, styleHint: 'flat', referencePrompt: '', output: PNG_OUTPUT }, frameSelection(frame), undefined, deps), options);
    return { ...run, frame, main, stub };
  }

  it('generates a set from names and places every PNG in the frame, named and laid out in a grid', async () => {
    const { frame, main, stub, final } = await namesIntoFrame('home, search, settings, profile');
    expect(final).toMatchObject({ busy: false, status: 'Made 4 of 4 images.' });
    expect(main.posted.find((m) => m.type === 'summary')).toEqual({ type: 'summary', status: 'Placed 4 images in “Tab bar”.', error: false });
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search', 'settings', 'profile']);
    // 600 x 200, gap 8: one row of four 140-pixel cells beats two rows of 88.
    expect(layersOf(frame).map(({ x, y, width, height }) => [x, y, width, height])).toEqual([
      [8, 30, 140, 140],
      [156, 30, 140, 140],
      [304, 30, 140, 140],
      [452, 30, 140, 140],
    ]);
    const job = engine.jobs.at(-1)!;
    expect(job.kind).toBe('set');
    // Each layer holds its image as the engine made it, byte for byte.
    for (const [index, node] of frame.children.entries()) expect(imageOf(stub, node)).toEqual(fakePng(64, 64, (job.options.seed + index) >>> 0));
    expect(stub.notices).toEqual([{ message: 'Styleset placed 4 images in “Tab bar”.', options: { error: false, timeout: 4000 } }]);
  });

  it('makes a set in the style of a layer: the layer exported at the model’s size, inverted once, the set made after it into a new frame', async () => {
    const stub = nodeStub();
    const { star } = canvasWithStar(stub);
    const style: CanvasStyle = { kind: 'canvas', nodeId: star.id, name: 'star', width: 48, height: 48, thumbnail: new Uint8Array(), suggestedPrompt: 'a star icon' };
    const main = await loadMainThread(codeJs, stub);
    const jobsBefore = engine.jobs.length;
    const { final } = await wired(main, (deps) => startSetRun({ names: 'home, search', styleHint: '', referencePrompt: 'a star icon', output: PNG_OUTPUT }, { kind: 'none' }, style, deps));
    expect(final).toMatchObject({ busy: false, status: 'Made 2 of 2 images.' });
    const [inversion, set] = engine.jobs.slice(jobsBefore);
    expect(inversion).toMatchObject({ kind: 'inversion', prompts: [], referencePrompt: 'a star icon' });
    // The exported layer is what the daemon inverted: byte for byte.
    expect(Buffer.from(inversion.referenceImage!)).toEqual(Buffer.from(fakePng(64, 64, 1)));
    expect(set).toMatchObject({ kind: 'reference', prompts: ['a home icon', 'a search icon'], referencePrompt: 'a star icon', trajectoryKey: `trajectory-${inversion.options.seed}` });
    expect(set.referenceImage).toBeUndefined();
    const frame = stub.page.children.at(-1)!;
    expect(frame.name).toBe('star set');
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search']);
    const record = parseAssetRecord(frame.children[1].getPluginData(ASSET_KEY))!;
    expect(record).toMatchObject({ name: 'search', prompt: 'a search icon', seed: (set.options.seed + 1) >>> 0, style: { referencePrompt: 'a star icon', referenceNodeId: star.id, referenceName: 'star' } });

    // Regenerate "search": the same inversion, a new seed, its layer replaced in place.
    const searchLayer = frame.children[1];
    await wired(main, (deps) => startRegenerate(searchLayer.id, record, deps));
    const again = engine.jobs.at(-1)!;
    expect(engine.jobs.length - jobsBefore).toBe(3);
    expect(again).toMatchObject({ kind: 'reference', prompts: ['a search icon'], trajectoryKey: set.trajectoryKey });
    expect(again.options.seed).toBe((record.seed + 1000) >>> 0);
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search']);
    expect(frame.children[1]).not.toBe(searchLayer);
    expect(imageOf(stub, frame.children[1])).toEqual(fakePng(64, 64, again.options.seed));
    expect(stub.notices.at(-1)?.message).toBe('Styleset replaced “search”.');
  });

  it('makes a set as SVGs: vector layers in the frame and the palette the daemon reports as paint styles', async () => {
    const stub = nodeStub();
    const frame = stub.add('FRAME', 'Tab bar', { width: 600, height: 200 });
    const main = await loadMainThread(codeJs, stub);
    const { final } = await wired(main, (deps) =>
      startSetRun({ names: 'home, search', styleHint: '', referencePrompt: '', output: { format: 'svg', transparent: false } }, frameSelection(frame), undefined, deps),
    );
    expect(final).toMatchObject({ busy: false, status: 'Made 2 of 2 images.' });
    const job = engine.jobs.at(-1)!;
    expect(job.options).toMatchObject({ format: 'svg', palette: 'set', background: 'keep' });
    expect(frame.children.map((node) => [node.type, node.name])).toEqual([
      ['FRAME', 'home'],
      ['FRAME', 'search'],
    ]);
    expect(frame.children.every((node) => node.svg?.startsWith('<svg'))).toBe(true);
    // The styles are the colours the SVGs fill with, as the daemon's palette lists them.
    const fills = [...new Set(frame.children.flatMap((node) => [...node.svg!.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1])))].sort();
    expect(stub.paintStyles.map((style) => style.name.replace('Tab bar/', '')).sort()).toEqual(fills);
    expect(stub.notices.at(-1)?.message).toMatch(/^Styleset placed 2 images in “Tab bar”; its \d+ colours are paint styles “Tab bar\/…”\.$/);
  });

  it('asks for the right token when the daemon rejects it', async () => {
    const { frame, stub, final } = await namesIntoFrame('home', { token: 'not-the-token' });
    expect(final.error).toEqual({ field: 'token', message: expect.arrayContaining([code('npx styleset pair')]) });
    expect(frame.children).toEqual([]);
    expect(stub.notices[0]).toMatchObject({ message: expect.stringMatching(/^Styleset placed nothing: .*pairing token/), options: { error: true } });
  });

  it('cancels on the daemon, keeping the images placed so far', async () => {
    // The engine waits before the second image until the cancel aborts it: no race with the clock.
    await start({ holdBeforeImage: 1 });
    const { frame, main, stub, final } = await namesIntoFrame('home, search, settings, profile', { stopAfterImages: 1 });
    expect(final).toMatchObject({ busy: false, status: 'Cancelled after 1 of 4 images.' });
    expect(frame.children.map((node) => node.name)).toEqual(['home']);
    expect(stub.notices.map((notice) => notice.message)).toEqual(['Styleset cancelled: 1 of 4 images placed in “Tab bar”.']);
    expect(main.posted.find((m) => m.type === 'summary')).toEqual({ type: 'summary', status: 'Cancelled: 1 of 4 images placed in “Tab bar”.', error: false });
    await start();
  });

  it('says how to start the daemon when nothing listens', async () => {
    const url = daemon.url;
    await daemon.close();
    const { final } = await namesIntoFrame('home', { url });
    expect(final.error?.message).toEqual([`The Styleset daemon is not running at ${url}. Start it in a terminal with `, code('npx styleset serve'), ', or at every login with ', code('styleset service install'), ', then try again.']);
    await start();
  });
});
