// A saved style from the daemon's library in the built Figma panel (happy-dom) wired to the built
// main thread, against a real daemon (fake engine) that keeps a style a teammate saved from a set.
import type { HTMLElement, HTMLSelectElement } from 'happy-dom';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StylesetClient } from '../packages/daemon/src/server/client';
import type { Daemon } from '../packages/daemon/src/server/daemon';
import type { FakeEngine } from '../packages/daemon/test/server/support/fake-engine';
import { ASSET_KEY, parseAssetRecord } from '../packages/figma-plugin/src/asset-record';
import type { FigmaStub } from './support/figma-stub';
import { buildPlugin, nodeStub, openPanel, removeBuild, storedToken, type BuiltPlugin, type Panel } from './support/figma-plugin-host';
import { startSavedStyleDaemon, type SavedStyleDaemon } from './support/saved-style-daemon';

let built: BuiltPlugin;
let saved: SavedStyleDaemon;
let token: string;
let daemon: Daemon;
let engine: FakeEngine;
const panels: Panel[] = [];

beforeAll(async () => {
  built = await buildPlugin();
  saved = await startSavedStyleDaemon('styleset-figma-saved-');
  ({ token, daemon, engine } = saved);
});

afterEach(async () => {
  await Promise.all(panels.splice(0).map((panel) => panel.close()));
});

afterAll(async () => {
  await saved?.close();
  await removeBuild(built);
});

async function ready() {
  const stub: FigmaStub = nodeStub(storedToken(token));
  const frame = stub.add('FRAME', 'Icons', { x: 0, y: 0, width: 400, height: 400 });
  stub.select([frame]);
  const panel = await openPanel(built, { stub, daemonUrl: daemon.url });
  panels.push(panel);
  const text = (id: string) => panel.element<HTMLElement>(id).textContent ?? '';
  const click = (id: string) => panel.element<HTMLElement>(id).click();
  const picker = panel.element<HTMLSelectElement>('saved-style');
  const pick = async (name: string) => {
    picker.value = name;
    picker.dispatchEvent(new panel.window.Event('change'));
    await panel.settle();
  };
  return { panel, stub, frame, text, click, picker, pick };
}

describe('a saved style in the Figma panel', () => {
  it('lists the daemon\'s styles; a set made in the one picked fills the selected frame, and a layer of it is made again in it', async () => {
    const { panel, stub, frame, text, click, picker, pick } = await ready();
    expect(picker.hidden).toBe(true);
    click('load-saved');
    await panel.until(() => !picker.hidden, 'the saved styles were listed');
    expect([...picker.options].map((option) => [option.value, option.textContent])).toEqual([
      ['', 'Pick a saved style'],
      ['brand', 'brand'],
    ]);
    expect(text('status')).toBe('1 saved style on the daemon.');

    await pick('brand');
    expect(text('style-name')).toBe('“brand”');
    // The style brings its reference: no reference prompt to type.
    expect(panel.element<HTMLElement>('reference').hidden).toBe(true);
    expect(text('destination')).toBe('Into “Icons”');

    // Nowhere to put a set: a saved style has no layer to put a new frame next to.
    stub.select([]);
    await panel.settle();
    expect(text('style-hint')).toBe('Saved style of “a fox”, 32 × 32, model tiny');
    expect(text('destination')).toBe('Select a frame to fill with a set in the saved style “brand”.');
    expect(panel.element<HTMLElement>('generate').hasAttribute('disabled')).toBe(true);
    stub.select([frame]);
    await panel.settle();

    const before = engine.jobs.length;
    (panel.element('names') as unknown as { value: string }).value = 'home, search';
    click('generate');
    await panel.until(() => stub.notices.length > 0 && panel.element<HTMLElement>('cancel').hidden, 'the run finished');
    await panel.settle();
    // A set in the style: its reference prompt and seed, the new images after its set's three.
    expect(engine.jobs.slice(before).map((job) => [job.kind, job.referencePrompt, job.firstIndex, job.options.seed, job.options.width, job.prompts.length])).toEqual([
      ['set', 'a fox', 3, 70, 32, 2],
    ]);
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search']);
    const record = parseAssetRecord(frame.children[1].getPluginData(ASSET_KEY))!;
    expect(record).toMatchObject({ name: 'search', seed: 74, style: null, savedStyle: 'brand' });

    // The layer, selected, is made again in the same style: another image of the style's set.
    stub.select([frame.children[1]]);
    await panel.settle();
    expect(text('asset-hint')).toBe('Seed 74, in the saved style “brand”');
    const notices = stub.notices.length;
    click('regenerate');
    await panel.until(() => stub.notices.length > notices && panel.element<HTMLElement>('cancel').hidden, 'the regeneration finished');
    await panel.settle();
    const again = engine.jobs.at(-1)!;
    expect(again).toMatchObject({ kind: 'set', referencePrompt: 'a fox', prompts: [record.prompt] });
    expect(again.firstIndex).toBeGreaterThanOrEqual(1);
    expect(again.firstIndex).not.toBe(4);
    const remade = parseAssetRecord(frame.children[1].getPluginData(ASSET_KEY))!;
    expect(remade).toMatchObject({ name: 'search', seed: 70 + again.firstIndex!, style: null, savedStyle: 'brand' });
    expect(text('error')).toBe('');
  });

  it('a saved style the daemon no longer keeps: Regenerate says so', async () => {
    const { panel, stub, frame, text, click, pick } = await ready();
    click('load-saved');
    await panel.until(() => !panel.element<HTMLElement>('saved-style').hidden, 'the saved styles were listed');
    await pick('brand');
    (panel.element('names') as unknown as { value: string }).value = 'home';
    click('generate');
    await panel.until(() => stub.notices.length > 0 && panel.element<HTMLElement>('cancel').hidden, 'the run finished');
    await panel.settle();
    const client = await StylesetClient.connect({ url: daemon.url, token });
    await client.deleteStyle('brand');
    await client.close();
    stub.select([frame.children[0]]);
    await panel.settle();
    const notices = stub.notices.length;
    click('regenerate');
    await panel.until(() => stub.notices.length > notices && panel.element<HTMLElement>('cancel').hidden, 'the regeneration ended');
    await panel.settle();
    expect(text('error')).toBe('The daemon no longer keeps the saved style “brand” that “home” was made in. Pick another saved style, or use a layer as the style.');
  });
});
