// The built panel (dist/ui.html) as Figma shows it, wired to the built main thread (dist/code.js),
// against a real daemon on loopback with the fake engine. A DOM without layout (happy-dom): what it
// checks is the panel's wiring and its computed styles; how it looks is for the Chromium host tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DAEMON_URL } from '@styleset/protocol';
import type { HTMLDetailsElement, HTMLElement, HTMLInputElement, HTMLTextAreaElement } from 'happy-dom';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, fakePng, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { ASSET_KEY, parseAssetRecord } from '../packages/figma-plugin/src/asset-record';
import type { FigmaStub, StubNode } from './support/figma-stub';
import { buildPlugin, nodeStub, openPanel, removeBuild, storedToken, type BuiltPlugin, type Panel } from './support/figma-plugin-host';

let built: BuiltPlugin;
let root: string;
let token: string;
let daemon: Daemon | undefined;
let engine: FakeEngine;
const panels: Panel[] = [];

beforeAll(async () => {
  built = await buildPlugin();
  root = await mkdtemp(join(tmpdir(), 'styleset-figma-panel-'));
  token = await loadOrCreateToken(join(root, 'config'));
});

afterEach(async () => {
  await Promise.all(panels.splice(0).map((panel) => panel.close()));
  await daemon?.close();
  daemon = undefined;
});

afterAll(async () => {
  await removeBuild(built);
  await rm(root, { recursive: true, force: true });
});

async function startFakeDaemon(options: FakeEngineOptions = {}): Promise<string> {
  engine = new FakeEngine(options);
  daemon = await startDaemon({ engine, dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
  return daemon.url;
}

/** The panel open on a file with a frame and a star icon, the token stored, the names typed. */
async function ready(options: { daemonUrl?: string; select?: (canvas: { frame: StubNode; star: StubNode }) => StubNode[]; names?: string; token?: string } = {}) {
  const stub: FigmaStub = nodeStub(storedToken(options.token ?? token));
  const frame = stub.add('FRAME', 'Icons', { x: 0, y: 0, width: 400, height: 400 });
  const star = stub.add('RECTANGLE', 'star', { x: 500, y: 0, width: 48, height: 48 }, stub.page, [{ type: 'IMAGE', imageHash: stub.addImage(fakePng(64, 64, 1)), scaleMode: 'FIT' }]);
  stub.select(options.select?.({ frame, star }) ?? [frame]);
  const panel = await openPanel(built, { stub, daemonUrl: options.daemonUrl });
  panels.push(panel);
  panel.element<HTMLTextAreaElement>('names').value = options.names ?? 'home, search, settings, profile';
  const text = (id: string) => panel.element<HTMLElement>(id).textContent ?? '';
  const click = (id: string) => panel.element<HTMLElement>(id).click();
  return { panel, stub, frame, star, text, click };
}

const finished = (panel: Panel) => panel.stub.notices.length > 0 && panel.element<HTMLElement>('cancel').hidden;

describe('starting a run in Figma’s sandbox (no allow-forms: a form’s submit never fires)', () => {
  it('generates on a click of Generate and places the set, with no form submission anywhere', async () => {
    const { panel, frame, text, click } = await ready({ daemonUrl: await startFakeDaemon() });
    expect(text('destination')).toBe('Into “Icons”');
    click('generate');
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(panel.socketUrls).toEqual([DEFAULT_DAEMON_URL]);
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search', 'settings', 'profile']);
    expect(panel.blockedSubmissions).toEqual([]);
    expect(panel.document.querySelectorAll('form, [type="submit"]').length).toBe(0);
    expect(text('status')).toBe('Placed 4 images in “Icons”.');
    expect(text('error')).toBe('');
    expect(panel.stub.notices).toEqual([{ message: 'Styleset placed 4 images in “Icons”.', options: { error: false, timeout: 4000 } }]);
  });

  it('generates on Enter in the style hint or the token, and on Ctrl or Cmd+Enter in the names; plain Enter there adds a line', async () => {
    const { panel } = await ready({ daemonUrl: await startFakeDaemon(), names: 'home' });
    const begins = () => panel.socketUrls.length;
    const press = async (id: string, init: { ctrlKey?: boolean; metaKey?: boolean; isComposing?: boolean } = {}) => {
      const field = panel.element<HTMLElement>(id);
      field.focus();
      const event = new panel.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...init });
      field.dispatchEvent(event);
      await panel.settle();
      // Each run started ends with its toast.
      await panel.until(() => panel.stub.notices.length === begins() && panel.element<HTMLElement>('cancel').hidden, 'every run ended');
      return event.defaultPrevented;
    };
    expect(await press('names')).toBe(false);
    expect(await press('names', { isComposing: true, ctrlKey: true })).toBe(false);
    expect(await press('styleHint', { isComposing: true })).toBe(false);
    expect(begins()).toBe(0);
    expect(await press('styleHint')).toBe(true);
    expect(begins()).toBe(1);
    expect(await press('token')).toBe(true);
    expect(begins()).toBe(2);
    expect(await press('names', { ctrlKey: true })).toBe(true);
    expect(await press('names', { metaKey: true })).toBe(true);
    expect(begins()).toBe(4);
    expect(panel.blockedSubmissions).toEqual([]);
  });
});

describe('the style from the canvas', () => {
  it('with nothing selected, says what to select and offers nothing to click', async () => {
    const { panel, text } = await ready({ select: () => [] });
    expect(text('style-name')).toBe('No style yet');
    expect(text('style-hint')).toBe('Select an icon, image, component or frame.');
    expect(text('destination')).toBe('Select an icon, image, component or frame and click Use as style, or select a frame to fill.');
    expect(panel.element<HTMLElement & { disabled: boolean }>('use-style').disabled).toBe(true);
    expect(panel.element<HTMLElement & { disabled: boolean }>('generate').disabled).toBe(true);
    expect(panel.element<HTMLElement>('asset-card').hidden).toBe(true);
  });

  it('takes the selected layer as the style, fills in the reference prompt and makes the set in a new frame next to it', async () => {
    const { panel, stub, star, text, click } = await ready({ daemonUrl: await startFakeDaemon(), select: ({ star }) => [star], names: 'home, search' });
    expect(text('style-hint')).toBe('Selected: “star”, a rectangle');
    expect(panel.element<HTMLElement & { disabled: boolean }>('generate').disabled).toBe(true);
    click('use-style');
    await panel.until(() => text('style-name') === '“star”', 'the style was taken');
    expect(panel.element<HTMLInputElement>('referencePrompt').value).toBe('a star icon');
    expect(panel.element<HTMLElement>('style-thumb').hidden).toBe(false);
    expect(text('destination')).toBe('Into a new frame next to “star”');
    click('generate');
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(engine.jobs.map((job) => job.kind)).toEqual(['inversion', 'reference']);
    const frame = stub.page.children.at(-1)!;
    expect(frame.name).toBe('star set');
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search']);
    expect(text('status')).toBe('Placed 2 images in “star set”.');

    // The new layer, selected, can be made again.
    stub.select([frame.children[0]]);
    await panel.settle();
    expect(panel.element<HTMLElement>('asset-card').hidden).toBe(false);
    expect(text('asset-name')).toBe('“home”');
    const oldSeed = parseAssetRecord(frame.children[0].getPluginData(ASSET_KEY))!.seed;
    expect(text('asset-hint')).toBe(`Seed ${oldSeed}, in the style of “star”`);
    const before = stub.notices.length;
    click('regenerate');
    await panel.until(() => stub.notices.length > before && panel.element<HTMLElement>('cancel').hidden, 'the regeneration finished');
    await panel.settle();
    expect(engine.jobs.at(-1)).toMatchObject({ kind: 'reference', prompts: ['a home icon'], trajectoryKey: engine.jobs[1].trajectoryKey });
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search']);
    expect(parseAssetRecord(frame.children[0].getPluginData(ASSET_KEY))!.seed).not.toBe(oldSeed);
    expect(text('status')).toBe('Replaced “home” with a new image.');
    expect(star.removed).toBe(false);
  });

  it('makes vector layers when SVG is chosen, cut out of the background when asked, the palette as paint styles', async () => {
    const { panel, stub, frame, text, click } = await ready({ daemonUrl: await startFakeDaemon(), names: 'home, search' });
    click('format-svg');
    click('transparent');
    click('generate');
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(engine.jobs[0].options).toMatchObject({ format: 'svg', background: 'transparent', palette: 'set' });
    expect(frame.children.map((node) => [node.type, node.name, node.svg?.startsWith('<svg')])).toEqual([
      ['FRAME', 'home', true],
      ['FRAME', 'search', true],
    ]);
    expect(stub.paintStyles.length).toBeGreaterThan(0);
    expect(stub.paintStyles.every((style) => /^Icons\/#[0-9a-f]{6}$/.test(style.name))).toBe(true);
    expect(text('status')).toBe(`Placed 2 images in “Icons”; its ${stub.paintStyles.length} colours are paint styles “Icons/…”.`);
  });

  it('asks for a reference prompt when the layer’s name says nothing, pointing at the field', async () => {
    const { panel, star, text, click } = await ready({ select: ({ star }) => [star] });
    star.setInitial({ name: 'Rectangle 12' });
    click('use-style');
    await panel.until(() => text('style-name') === '“Rectangle 12”', 'the style was taken');
    expect(panel.element<HTMLInputElement>('referencePrompt').value).toBe('');
    click('generate');
    await panel.settle();
    expect(text('error')).toBe('Describe the style’s layer “Rectangle 12” in a few words, e.g. “a star icon”: the daemon inverts it with that prompt.');
    expect(panel.document.activeElement).toBe(panel.element('referencePrompt'));
    expect(panel.socketUrls).toEqual([]);
  });
});

describe('a frame deleted mid-run', () => {
  it('stops placing, says so, and counts what was placed: nothing, when it went before the first image', async () => {
    const { panel, stub, frame, text, click } = await ready({ daemonUrl: await startFakeDaemon() });
    // The job's first step waits until the frame is gone.
    engine.hold();
    click('generate');
    await panel.until(() => engine.jobs.length === 1, 'the job started');
    stub.deleteNode(frame);
    engine.release();
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(frame.snapshot().children).toEqual([]);
    expect(stub.notices).toEqual([{ message: 'Styleset stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.', options: { error: true, timeout: 10_000 } }]);
    expect(text('error')).toBe('Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.');
    expect(text('status')).toBe('');
  });

  it('keeps the count of images placed before it went, and cancels the rest of the job', async () => {
    // The engine holds before the second image, so the first is placed before the frame goes.
    const { panel, stub, frame, text, click } = await ready({ daemonUrl: await startFakeDaemon({ holdBeforeImage: 1 }) });
    click('generate');
    await panel.until(() => frame.children.length === 1, 'the first image is placed');
    stub.deleteNode(frame);
    // The second image comes; the third waits, until the cancel the second one's arrival causes.
    engine.release();
    engine.hold();
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(frame.snapshot().children.map((node) => node.name)).toEqual(['home']);
    expect(panel.received.filter((message) => message.type === 'asset').map((message) => message.type === 'asset' && message.asset.index)).toEqual([0, 1]);
    expect(panel.received.at(-1)).toEqual({ type: 'end', end: { status: 'cancelled' } });
    expect(stub.notices.map((notice) => notice.message)).toEqual(['Styleset stopped: the frame “Icons” was deleted; 3 of 4 images were not placed.']);
    expect(text('error')).toBe('Stopped: the frame “Icons” was deleted; 3 of 4 images were not placed.');
  });
});

describe('the daemon’s address and token', () => {
  it('keeps a token per address: a team’s address starts with an empty token, the local one keeps its own', async () => {
    const { panel, stub, text } = await ready();
    const url = panel.element<HTMLInputElement>('url');
    const tokenField = panel.element<HTMLInputElement>('token');
    expect(url.value).toBe(DEFAULT_DAEMON_URL);
    expect(tokenField.value).toBe(token);
    expect(panel.element<HTMLDetailsElement>('daemon').open).toBe(false);
    url.value = 'wss://styleset.team.example/';
    url.dispatchEvent(new panel.window.Event('change'));
    await panel.settle();
    expect(url.value).toBe('wss://styleset.team.example');
    expect(tokenField.value).toBe('');
    expect(text('daemon-url')).toBe('wss://styleset.team.example');
    tokenField.value = 'team-token';
    tokenField.dispatchEvent(new panel.window.Event('change'));
    await panel.settle();
    expect(stub.storage.get('styleset.settings')).toEqual({ url: 'wss://styleset.team.example', tokens: { [DEFAULT_DAEMON_URL]: token, 'wss://styleset.team.example': 'team-token' } });
    url.value = DEFAULT_DAEMON_URL;
    url.dispatchEvent(new panel.window.Event('change'));
    await panel.settle();
    expect(tokenField.value).toBe(token);
  });

  it('refuses an address that would send the token in clear text, pointing at the field', async () => {
    const { panel, text, click } = await ready();
    const url = panel.element<HTMLInputElement>('url');
    url.value = 'ws://styleset.team.example';
    click('generate');
    await panel.settle();
    expect(text('error')).toBe('ws:// would send the pairing token unencrypted to styleset.team.example: a daemon on another machine needs wss:// (behind a TLS proxy).');
    expect(url.classList.contains('invalid')).toBe(true);
    expect(panel.element<HTMLDetailsElement>('daemon').open).toBe(true);
    expect(panel.socketUrls).toEqual([]);
  });

  it('opens the settings at first use, with no token yet', async () => {
    const { panel } = await ready({ token: '' });
    expect(panel.element<HTMLDetailsElement>('daemon').open).toBe(true);
  });
});

describe('errors in words for people', () => {
  it('shows the command to start the daemon as code in the panel and as plain words in the toast', async () => {
    const url = await startFakeDaemon();
    await daemon!.close();
    daemon = undefined;
    const { panel, text, click } = await ready({ daemonUrl: url });
    click('generate');
    await panel.until(() => finished(panel), 'the run failed');
    const error = panel.element<HTMLElement>('error');
    expect(text('error')).toBe(`The Styleset daemon is not running at ${DEFAULT_DAEMON_URL}. Start it in a terminal with npx styleset serve, or at every login with styleset service install, then try again.`);
    expect([...error.querySelectorAll('code')].map((node) => node.textContent)).toEqual(['npx styleset serve', 'styleset service install']);
    expect(panel.stub.notices).toEqual([
      {
        message: `Styleset placed nothing: The Styleset daemon is not running at ${DEFAULT_DAEMON_URL}. Start it in a terminal with npx styleset serve, or at every login with styleset service install, then try again.`,
        options: { error: true, timeout: 10_000 },
      },
    ]);
    for (const shown of [text('error'), text('status'), panel.stub.notices[0].message]) expect(shown).not.toMatch(/`|\bcode \d{4}\b/);
  });

  it('points at the token field, invalid, focused and in view, when the daemon refuses the token', async () => {
    const { panel, text, click } = await ready({ daemonUrl: await startFakeDaemon(), token: 'not-the-token' });
    click('generate');
    await panel.until(() => finished(panel), 'the run failed');
    const tokenField = panel.element<HTMLInputElement>('token');
    expect(panel.document.activeElement).toBe(tokenField);
    expect(tokenField.classList.contains('invalid')).toBe(true);
    expect(panel.element<HTMLDetailsElement>('daemon').open).toBe(true);
    expect(text('error')).toBe('The daemon did not accept this pairing token. Run npx styleset pair in a terminal and paste the token it prints.');
    expect(panel.stub.notices[0].message).not.toContain('`');
  });
});

describe('the panel’s styles, as computed', () => {
  const DANGER = /#e03e1a|rgb\(224, 62, 26\)/i;

  it('hides every element while it is hidden, whatever display a rule gives it', async () => {
    const { panel } = await ready();
    const all = [...panel.document.body.querySelectorAll('*')].filter((node) => node.tagName !== 'SCRIPT') as HTMLElement[];
    expect(all.length).toBeGreaterThan(25);
    const shownBefore = all.filter((node) => panel.window.getComputedStyle(node).display !== 'none');
    expect(shownBefore.map((node) => node.id)).not.toContain('preview');
    for (const node of all) {
      node.hidden = true;
      expect(panel.window.getComputedStyle(node).display, `#${node.id} <${node.tagName}>`).toBe('none');
      node.hidden = false;
    }
    // The preview, once shown, takes the display its rule gives it.
    const preview = panel.element<HTMLElement>('preview');
    preview.hidden = false;
    expect(panel.window.getComputedStyle(preview).display).not.toBe('none');
  });

  it('keeps an invalid field’s danger colour while it has focus, where a valid one shows the focus colour', async () => {
    const { panel } = await ready();
    const tokenField = panel.element<HTMLInputElement>('token');
    const styleHint = panel.element<HTMLInputElement>('styleHint');
    styleHint.focus();
    const focusedValid = panel.window.getComputedStyle(styleHint);
    expect(focusedValid.boxShadow).not.toMatch(DANGER);
    expect(focusedValid.boxShadow).not.toBe('');
    tokenField.classList.add('invalid');
    tokenField.focus();
    expect(panel.document.activeElement).toBe(tokenField);
    const focusedInvalid = panel.window.getComputedStyle(tokenField);
    expect(focusedInvalid.borderColor).toMatch(DANGER);
    // The ring, drawn where a browser's own focus outline would cover the border, is the danger colour too.
    expect(focusedInvalid.boxShadow).toMatch(DANGER);
    expect(['none', '']).toContain(focusedInvalid.outlineStyle);
  });

  it('lets only the preview give up height, so the status and error lines stay in the window', async () => {
    const { panel } = await ready();
    const style = (node: HTMLElement) => panel.window.getComputedStyle(node);
    const body = panel.document.body as unknown as HTMLElement;
    expect(style(body)).toMatchObject({ display: 'flex', flexDirection: 'column', height: '100%', boxSizing: 'border-box' });
    const children = [...body.children].filter((node) => node.tagName !== 'SCRIPT') as HTMLElement[];
    const ids = children.map((node) => node.id);
    // The preview comes last: whatever it does, it cannot push the status or the error out.
    expect(ids.at(-1)).toBe('preview');
    expect(ids.indexOf('status')).toBeLessThan(ids.indexOf('preview'));
    expect(ids.indexOf('error')).toBeLessThan(ids.indexOf('preview'));
    for (const node of children.slice(0, -1)) expect(style(node).flexShrink, `<${node.tagName}> #${node.id}`).toBe('0');
    const preview = style(panel.element<HTMLElement>('preview'));
    expect(preview).toMatchObject({ flexShrink: '1', objectFit: 'contain' });
    expect(Number.parseFloat(preview.minHeight)).toBe(0);
  });
});
