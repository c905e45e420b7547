// The Figma plugin as Figma runs it, in Debian's Chromium: the built code.js against the `figma`
// stub in a page on loopback, the built ui.html in an iframe sandboxed as Figma's plugin window
// (`allow-scripts` only, its network policy from the manifest), the two wired by postMessage;
// against `styleset serve` (the built CLI, its embedded 128 x 128 icon model) on loopback. Every
// test asserts on the nodes the plugin created; the main states are screenshotted
// (docs/images/figma/ with STYLESET_UPDATE_SCREENSHOTS=1).
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderIcon } from '../../packages/daemon/src/icons';
import { encodePng } from '../../packages/daemon/src/image/png';
import { ASSET_KEY, parseAssetRecord, type AssetRecord } from '../../packages/figma-plugin/src/asset-record';
import { pngSize } from '../../packages/figma-plugin/src/reference-export';
import { buildPlugin, removeBuild, type BuiltPlugin } from '../support/figma-plugin-host';
import { freePort } from '../support/free-port';
import type { NodeSnapshot } from '../support/figma-stub';
import { launchChromium } from './support/chromium';
import { daemonFolders, startRelay, startServe, type Relay, type Serve } from './support/figma-daemon';
import { openFigmaHost, serveHostPage, type FigmaHost, type FigmaHostServer } from './support/figma-host';
import { MAX_PAINT_STYLES } from '../../packages/figma-plugin/src/paint-styles';

let browser: Browser;
let server: FigmaHostServer;
let plugin: BuiltPlugin;
let folders: Awaited<ReturnType<typeof daemonFolders>>;
let daemon: Serve;
const hosts: FigmaHost[] = [];

beforeAll(async () => {
  [browser, server, plugin, folders] = await Promise.all([launchChromium(), serveHostPage(), buildPlugin(), daemonFolders()]);
  daemon = await startServe(folders);
});

afterEach(async () => {
  for (const host of hosts.splice(0)) {
    // A plugin that logged an error (a CSP refusal aside: that is what one test is about) failed somewhere.
    expect(host.errors.filter((error) => !/Content Security Policy|ERR_/.test(error))).toEqual([]);
    await host.close();
  }
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all([browser?.close(), server?.close(), removeBuild(plugin)]);
  await folders?.dispose();
});

/** The style on the canvas: an orange star on navy, drawn by the icon renderer the embedded model was trained on. */
const STAR_PNG = new Uint8Array(
  encodePng({
    width: 128,
    height: 128,
    channels: 3,
    data: renderIcon(
      {
        shape: 'star',
        style: { foreground: 'orange', secondary: 'yellow', background: 'navy', fill: 'filled', stroke: 'medium', pattern: 'solid', patternAngle: 0, patternPeriod: 0.3, rounded: 0.08, shadow: true },
        scale: 0.78,
        offsetX: 0,
        offsetY: 0,
      },
      128,
    ).rgb,
  }),
);

/** Client storage as a designer who pasted the token once leaves it. */
const paired = (url = daemon.url, token = daemon.token) => ({ 'styleset.settings': { url, tokens: { [url]: token } } });

/** A design file with a board holding the star icon, and an empty frame, the plugin open on it. */
async function open(storage: { [key: string]: unknown } = paired()) {
  const host = await openFigmaHost(browser, server, plugin, storage);
  hosts.push(host);
  const board = await host.addFrame('Board', { x: 0, y: 0, width: 240, height: 160 });
  const star = await host.addImage('star', { x: 96, y: 56, width: 48, height: 48 }, STAR_PNG, board);
  const icons = await host.addFrame('Icons', { x: 0, y: 200, width: 300, height: 90 });
  return { host, ui: host.ui, board, star, icons };
}

const named = (nodes: NodeSnapshot[], name: string) => nodes.find((node) => node.name === name);
const recordOf = (node: NodeSnapshot): AssetRecord | undefined => parseAssetRecord(node.pluginData[ASSET_KEY] ?? '');
const imageHash = (node: NodeSnapshot) => (node.fills[0] as { imageHash: string }).imageHash;

interface JobRecord {
  id: string;
  kind: string;
  state: string;
  vector?: { summary: { palettes: { colors: string[]; images: number[] }[]; failed?: { index: number; warning: string }[] } };
  prompts: string[];
  referencePrompt?: string;
  inversionJobId?: string;
  options: { seed: number; width: number; height: number; model: string };
  results: { index: number; seed: number }[];
  error?: { code: string };
}

/** The daemon's job records, oldest first. */
async function jobs(): Promise<JobRecord[]> {
  const dir = join(folders.dataDir, 'jobs');
  const records = await Promise.all((await readdir(dir)).map(async (id) => JSON.parse(await readFile(join(dir, id, 'job.json'), 'utf8')) as JobRecord & { timings: { createdAt: number } }));
  return records.sort((a, b) => a.timings.createdAt - b.timings.createdAt);
}

/** Takes the star as the style; the panel then shows it and a prompt from its name. */
async function useStarAsStyle({ host, ui, star }: Awaited<ReturnType<typeof open>>) {
  await host.select([star]);
  await ui.locator('#use-style').click();
  await expect.poll(() => ui.locator('#style-name').textContent()).toBe('“star”');
}

/** Clicks a button that starts a run and waits for its end: the main thread's toast, then the panel's last word. */
async function runBy(host: FigmaHost, button: string) {
  const toasts = (await host.record()).notices.length;
  await host.ui.locator(button).click();
  await host.untilNotice(toasts + 1);
  await host.ui.locator('#cancel').waitFor({ state: 'hidden' });
}

async function generate(host: FigmaHost, names: string) {
  await host.ui.locator('#names').fill(names);
  await runBy(host, '#generate');
}

describe('the Figma plugin in Chromium', () => {
  it('opens in a frame sandboxed as Figma’s, and with nothing selected says what to select', async () => {
    const { host, ui } = await open();
    await host.select([]);
    const frame = host.page.locator('#plugin iframe');
    expect(await frame.getAttribute('sandbox')).toBe('allow-scripts');
    expect(await ui.locator('body').evaluate('self.origin')).toBe('null');
    expect([await frame.getAttribute('width'), await frame.getAttribute('height')]).toEqual(['340', '640']);
    expect(await ui.locator('#style-name').textContent()).toBe('No style yet');
    expect(await ui.locator('#destination').textContent()).toBe('Select an icon, image, component or frame and click Use as style, or select a frame to fill.');
    expect(await ui.locator('#use-style').isDisabled()).toBe(true);
    expect(await ui.locator('#generate').isDisabled()).toBe(true);
    await host.screenshot('nothing-selected');
    expect((await host.snapshot()).map((node) => node.name)).toEqual(['Board', 'Icons']);
  });

  it('makes a set in the style of the selected icon, next to it; regenerates one asset in place; undoes one asset at a time', async () => {
    // First use: the token pasted into the settings, as the README says.
    const opened = await open({ 'styleset.settings': { url: daemon.url, tokens: {} } });
    const { host, ui, star } = opened;
    expect(await ui.locator('#daemon').getAttribute('open')).not.toBeNull();
    await ui.locator('#token').fill(daemon.token);
    await useStarAsStyle(opened);
    expect(await ui.locator('#referencePrompt').inputValue()).toBe('a star icon');
    expect(await ui.locator('#destination').textContent()).toBe('Into a new frame next to “star”');
    await ui.locator('#names').fill('heart, moon, house, cloud');
    await host.screenshot('style-chosen');

    await ui.locator('#generate').click();
    await ui.locator('#preview').waitFor({ state: 'visible', timeout: 170_000 });
    await host.screenshot('generating');
    await host.untilNotice(1);
    await ui.locator('#cancel').waitFor({ state: 'hidden' });
    expect(await ui.locator('#error').textContent()).toBe('');
    expect(await ui.locator('#status').textContent()).toBe('Placed 4 images in “star set”.');

    // The star was exported as a PNG at the model's size (128 x 128) and inverted by the daemon, once.
    const record = await host.record();
    const exports = record.calls.filter((call) => call.api === 'exportAsync');
    expect(exports.map((call) => call.args)).toEqual([
      [star, { format: 'PNG', constraint: { type: 'WIDTH', value: 96 } }],
      [star, { format: 'PNG', constraint: { type: 'WIDTH', value: 128 } }],
    ]);
    const [inversion, set] = await jobs();
    expect(inversion).toMatchObject({ kind: 'inversion', state: 'done', referencePrompt: 'a star icon', options: { width: 128, height: 128 } });
    expect(set).toMatchObject({ kind: 'reference', state: 'done', inversionJobId: inversion.id, referencePrompt: 'a star icon', prompts: ['a heart icon', 'a moon icon', 'a house icon', 'a cloud icon'] });

    // A new frame to the right of the board (0 + 240 + 80), level with the star (56): 48 px cells
    // (the star's size), 12 px apart, one layer per asset named after it.
    const [board, , frame] = await host.snapshot();
    expect(board.name).toBe('Board');
    expect({ name: frame.name, type: frame.type, x: frame.x, y: frame.y, width: frame.width, height: frame.height }).toEqual({ name: 'star set', type: 'FRAME', x: 320, y: 56, width: 252, height: 72 });
    expect(frame.children.map(({ name, type, x, y, width, height }) => ({ name, type, x, y, width, height }))).toEqual(
      ['heart', 'moon', 'house', 'cloud'].map((name, i) => ({ name, type: 'RECTANGLE', x: 12 + 60 * i, y: 12, width: 48, height: 48 })),
    );
    const images = await Promise.all(frame.children.map((node) => host.image(imageHash(node))));
    for (const image of images) expect(pngSize(image)).toEqual({ width: 128, height: 128 });
    expect(new Set(images.map((image) => Buffer.from(image).toString('base64'))).size).toBe(4);
    expect(frame.children.map(recordOf)).toEqual(
      ['heart', 'moon', 'house', 'cloud'].map((name, i) => ({
        name,
        prompt: `a ${name} icon`,
        seed: set.results[i].seed,
        output: { format: 'png', transparent: false },
        style: { referencePrompt: 'a star icon', inversionJobId: inversion.id, referenceNodeId: star, referenceName: 'star' },
      })),
    );
    expect(record.notices).toEqual([{ message: 'Styleset placed 4 images in “star set”.', options: { error: false, timeout: 4000 } }]);
    // One undo step per asset.
    expect(record.history).toHaveLength(4);
    await host.select([frame.id]);
    await host.screenshot('set-placed');

    // Regenerate "moon": a new seed, the set's inversion reused, its layer replaced in place.
    const moon = named(frame.children, 'moon')!;
    await host.select([moon.id]);
    await expect.poll(() => ui.locator('#asset-name').textContent()).toBe('“moon”');
    expect(await ui.locator('#asset-hint').textContent()).toBe(`Seed ${recordOf(moon)!.seed}, in the style of “star”`);
    await runBy(host, '#regenerate');
    expect(await ui.locator('#status').textContent()).toBe('Replaced “moon” with a new image.');
    const again = (await jobs()).at(-1)!;
    expect(again).toMatchObject({ kind: 'reference', inversionJobId: inversion.id, prompts: ['a moon icon'] });
    expect(again.options.seed).not.toBe(recordOf(moon)!.seed);
    const after = (await host.snapshot())[2];
    const newMoon = after.children[1];
    expect(after.children.map((node) => node.id)).toEqual([frame.children[0].id, newMoon.id, frame.children[2].id, frame.children[3].id]);
    expect(newMoon.id).not.toBe(moon.id);
    expect({ name: newMoon.name, x: newMoon.x, y: newMoon.y, width: newMoon.width, height: newMoon.height }).toEqual({ name: 'moon', x: 72, y: 12, width: 48, height: 48 });
    expect(recordOf(newMoon)).toEqual({ ...recordOf(moon), seed: again.options.seed });
    expect(Buffer.from(await host.image(imageHash(newMoon)))).not.toEqual(Buffer.from(images[1]));
    // The other layers are untouched: same nodes, same images.
    for (const i of [0, 2, 3]) expect(imageHash(after.children[i])).toBe(imageHash(frame.children[i]));
    expect(await host.selection()).toEqual([newMoon.id]);
    await host.screenshot('regenerated');

    // Undo: the regeneration first (the old moon back), then the last asset of the set.
    await host.pressUndo();
    const undone = (await host.snapshot())[2];
    expect(undone.children.map((node) => [node.id, node.name, imageHash(node)])).toEqual(frame.children.map((node) => [node.id, node.name, imageHash(node)]));
    await host.pressUndo();
    expect((await host.snapshot())[2].children.map((node) => node.name)).toEqual(['heart', 'moon', 'house']);
  });

  it('fills a selected frame instead, when one is selected after choosing the style', async () => {
    const opened = await open();
    const { host, ui, icons } = opened;
    await useStarAsStyle(opened);
    await host.select([icons]);
    await expect.poll(() => ui.locator('#destination').textContent()).toBe('Into “Icons”');
    await generate(host, 'heart, moon');
    expect(await ui.locator('#status').textContent()).toBe('Placed 2 images in “Icons”.');
    const nodes = await host.snapshot();
    expect(nodes.map((node) => node.name)).toEqual(['Board', 'Icons']);
    // 300 x 90, gap 4 (4% of 90): two cells of 90 - 2 * 4 = 82 px in a row (side by side beats
    // stacked), centred: (300 - (2 * 82 + 4)) / 2 = 66 from the left.
    expect(named(nodes, 'Icons')!.children.map(({ name, x, y, width, height }) => ({ name, x, y, width, height }))).toEqual([
      { name: 'heart', x: 66, y: 4, width: 82, height: 82 },
      { name: 'moon', x: 152, y: 4, width: 82, height: 82 },
    ]);
  });

  it('makes the set as vector layers (createNodeFromSvg), its palette local paint styles named after the set', async () => {
    const opened = await open();
    const { host, ui } = opened;
    await useStarAsStyle(opened);
    await ui.locator('#format-svg').check();
    await ui.locator('#names').fill('heart, moon');
    await runBy(host, '#generate');
    const set = (await jobs()).at(-1)!;
    expect(set).toMatchObject({ kind: 'reference', state: 'done', options: { format: 'svg', palette: 'set' } });
    const palette = set.vector!.summary.palettes.flatMap((p) => p.colors);
    const frame = named(await host.snapshot(), 'star set')!;
    const record = await host.record();
    expect(frame.children.map((node) => [node.type, node.name])).toEqual([
      ['FRAME', 'heart'],
      ['FRAME', 'moon'],
    ]);
    expect(record.calls.filter((call) => call.api === 'createNodeFromSvg').map((call) => call.args[0])).toEqual(frame.children.map((node) => node.svg));
    expect(frame.children.map((node) => recordOf(node)?.output)).toEqual([{ format: 'svg', transparent: false }, { format: 'svg', transparent: false }]);
    // The commonest colours (the daemon lists them first) become styles, at most MAX_PAINT_STYLES.
    const styled = palette.slice(0, MAX_PAINT_STYLES);
    expect(record.paintStyles.map((style) => style.name)).toEqual(styled.map((hex) => `star set/${hex}`));
    const hex = (c: { r: number; g: number; b: number }) => `#${[c.r, c.g, c.b].map((x) => Math.round(x * 255).toString(16).padStart(2, '0')).join('')}`;
    expect(record.paintStyles.map((style) => hex(style.paints[0].color!))).toEqual(styled);
    // Every colour the SVGs fill with is one of the palette's.
    const fills = new Set(frame.children.flatMap((node) => [...node.svg!.matchAll(/fill="(#[0-9a-f]{3}(?:[0-9a-f]{3})?)"/g)].map((m) => m[1])));
    const long = (c: string) => (c.length === 4 ? `#${c[1]}${c[1]}${c[2]}${c[2]}${c[3]}${c[3]}` : c);
    for (const fill of fills) expect(palette).toContain(long(fill));
    const styles = palette.length > MAX_PAINT_STYLES ? `${styled.length} commonest of ${palette.length} colours are` : `${palette.length} colours are`;
    expect(record.notices.at(-1)?.message).toBe(`Styleset placed 2 images in “star set”; its ${styles} paint styles “star set/…”.`);
    await host.select([frame.id]);
    await host.screenshot('svg-placed');
  });

  it('says how to start the daemon when none is running, and places nothing', async () => {
    const stopped = { url: `ws://127.0.0.1:${await freePort()}` };
    const opened = await open(paired(stopped.url, 'any'));
    const { host, ui, icons } = opened;
    await host.select([icons]);
    await generate(host, 'heart, moon');
    expect(await ui.locator('#error').textContent()).toBe(`The Styleset daemon is not running at ${stopped.url}. Start it in a terminal with npx styleset serve, or at every login with styleset service install, then try again.`);
    expect(await ui.locator('#error code').allTextContents()).toEqual(['npx styleset serve', 'styleset service install']);
    expect(named(await host.snapshot(), 'Icons')!.children).toEqual([]);
    expect((await host.record()).notices[0]).toMatchObject({ message: expect.stringMatching(/^Styleset placed nothing: The Styleset daemon is not running/), options: { error: true } });
    await host.screenshot('daemon-not-running');
  });

  it('points at the token when the daemon refuses it', async () => {
    const opened = await open(paired(daemon.url, 'not-the-token'));
    const { host, ui, icons } = opened;
    await host.select([icons]);
    await generate(host, 'heart');
    expect(await ui.locator('#error').textContent()).toBe('The daemon did not accept this pairing token. Run npx styleset pair in a terminal and paste the token it prints.');
    expect(await ui.locator('#token').getAttribute('class')).toContain('invalid');
    expect(await ui.locator('#daemon').getAttribute('open')).not.toBeNull();
    expect(await ui.locator('#token:focus').count()).toBe(1);
    expect(named(await host.snapshot(), 'Icons')!.children).toEqual([]);
    await host.screenshot('wrong-token');
  });

  it('explains that the manifest must allow a team’s address, which Figma’s policy refuses until it does', async () => {
    const team = 'wss://styleset.team.example';
    const opened = await open(paired(team, 'team-token'));
    const { host, ui, icons } = opened;
    await host.select([icons]);
    await generate(host, 'heart');
    expect(await ui.locator('#error').textContent()).toBe(
      `Figma did not let the plugin connect to ${team}: this copy of the plugin may reach only the addresses in its manifest. Whoever installs it for your team adds this one to networkAccess.allowedDomains in manifest.json (see the README).`,
    );
    expect(await ui.locator('#url').getAttribute('class')).toContain('invalid');
    expect(named(await host.snapshot(), 'Icons')!.children).toEqual([]);
    await host.screenshot('address-not-allowed');
  });

  it('keeps what was placed when the daemon is lost mid-run, and says how to start it again', async () => {
    let relay: Relay | undefined;
    try {
      const port = daemon.port;
      relay = await startRelay(
        () => daemon.url,
        () => daemon.stop('SIGKILL'),
      );
      const opened = await open(paired(relay.url, daemon.token));
      const { host, ui } = opened;
      await useStarAsStyle(opened);
      await generate(host, 'heart, moon, house, cloud');
      expect(relay.cuts).toBe(1);
      expect(await ui.locator('#error').textContent()).toBe('The connection to the daemon broke off. If the daemon stopped, start it again with npx styleset serve, then try again.');
      expect(await ui.locator('#status').textContent()).toBe('Placed 1 of 4 images in “star set”.');
      const frame = named(await host.snapshot(), 'star set')!;
      expect(frame.children.map((node) => node.name)).toEqual(['heart']);
      expect(recordOf(frame.children[0])).toMatchObject({ name: 'heart', prompt: 'a heart icon' });
      expect((await host.record()).notices).toEqual([
        {
          message: 'Styleset placed 1 of 4 images in “star set”: The connection to the daemon broke off. If the daemon stopped, start it again with npx styleset serve, then try again.',
          options: { error: true, timeout: 10_000 },
        },
      ]);
      await host.screenshot('daemon-lost');
      // Back at the same address, the daemon has the run's job: interrupted, or done where the
      // daemon had finished before the kill landed (a set's images decode milliseconds apart,
      // after one shared denoising, so a fast machine can finish first). Either way it is there.
      daemon = await startServe(folders, port);
      const job = (await jobs()).at(-1)!;
      expect(job).toMatchObject({ kind: 'reference', count: 4 });
      expect(['interrupted', 'done']).toContain(job.state);
    } finally {
      await relay?.close();
    }
  });

  it('stops placing when the new frame is deleted mid-run, and says how many images were not placed', async () => {
    const opened = await open();
    const { host, ui } = opened;
    await useStarAsStyle(opened);
    await host.deleteFrameAfterPlaced(1);
    const before = (await jobs()).length;
    await generate(host, 'heart, moon, house, cloud');
    expect(await ui.locator('#error').textContent()).toBe('Stopped: the frame “star set” was deleted; 3 of 4 images were not placed.');
    expect((await host.snapshot()).map((node) => node.name)).toEqual(['Board', 'Icons']);
    expect((await host.record()).notices.map((notice) => notice.message)).toEqual(['Styleset stopped: the frame “star set” was deleted; 3 of 4 images were not placed.']);
    // The plugin cancelled the rest of the job on the daemon (or it had just finished).
    const [, set] = (await jobs()).slice(before);
    expect(['cancelled', 'done']).toContain(set.state);
    await host.screenshot('frame-deleted');
  });
});
