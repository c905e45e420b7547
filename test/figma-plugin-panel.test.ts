// The built panel (dist/ui.html) as Figma shows it, wired to the built main thread (dist/code.js),
// against a real daemon on loopback with the fake engine. A DOM without layout (happy-dom): what it
// checks is the panel's wiring and its computed styles; how it looks is for the Chromium host tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DAEMON_URL } from '@styleset/protocol';
import type { HTMLElement, HTMLInputElement, HTMLTextAreaElement } from 'happy-dom';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { buildPlugin, fakeNode, openPanel, removeBuild, type BuiltPlugin, type FakeNode, type Panel } from './support/figma-plugin-host';

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

/** The panel with a frame selected, the token stored and the names typed, ready to generate. */
async function ready(options: { daemonUrl?: string; frame?: FakeNode; names?: string; storedToken?: string } = {}) {
  const frame = options.frame ?? fakeNode('FRAME', 'Icons', 400, 400);
  const panel = await openPanel(built, { selection: [frame], storedToken: options.storedToken ?? token, daemonUrl: options.daemonUrl });
  panels.push(panel);
  panel.element<HTMLTextAreaElement>('names').value = options.names ?? 'home, search, settings, profile';
  return { panel, frame, text: (id: string) => panel.element<HTMLElement>(id).textContent ?? '' };
}

const finished = (panel: Panel) => panel.main.notices.length > 0 && panel.element<HTMLElement>('cancel').hidden;

describe('starting a run in Figma’s sandbox (no allow-forms: a form’s submit never fires)', () => {
  it('generates on a click of Generate and places the set, with no form submission anywhere', async () => {
    const { panel, frame, text } = await ready({ daemonUrl: await startFakeDaemon() });
    panel.element<HTMLElement>('generate').click();
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(panel.socketUrls).toEqual([DEFAULT_DAEMON_URL]);
    expect(frame.children.map((node) => node.name)).toEqual(['home', 'search', 'settings', 'profile']);
    expect(panel.blockedSubmissions).toEqual([]);
    expect(panel.document.querySelectorAll('form, [type="submit"]').length).toBe(0);
    expect(text('status')).toBe('Placed 4 images in “Icons”.');
    expect(text('error')).toBe('');
    expect(panel.main.notices).toEqual([{ message: 'Styleset placed 4 images in “Icons”.', options: { error: false, timeout: 4000 } }]);
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
      await panel.until(() => panel.main.notices.length === begins() && panel.element<HTMLElement>('cancel').hidden, 'every run ended');
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

describe('a frame deleted mid-run', () => {
  it('stops placing, says so, and counts what was placed: nothing, when it went before the first image', async () => {
    const { panel, frame, text } = await ready({ daemonUrl: await startFakeDaemon() });
    // The job's first step waits until the frame is gone.
    engine.hold();
    panel.element<HTMLElement>('generate').click();
    await panel.until(() => engine.jobs.length === 1, 'the job started');
    frame.removed = true;
    engine.release();
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(frame.children).toEqual([]);
    expect(panel.main.notices).toEqual([
      { message: 'Styleset stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.', options: { error: true, timeout: 10_000 } },
    ]);
    expect(text('error')).toBe('Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.');
    expect(text('status')).toBe('');
    expect(panel.main.posted.filter((message) => message.type === 'target-deleted')).toHaveLength(1);
  });

  it('keeps the count of images placed before it went, and cancels the rest of the job', async () => {
    // The engine holds before the second image, so the first is placed before the frame goes.
    const { panel, frame, text } = await ready({ daemonUrl: await startFakeDaemon({ holdBeforeImage: 1 }) });
    panel.element<HTMLElement>('generate').click();
    await panel.until(() => frame.children.length === 1, 'the first image is placed');
    frame.removed = true;
    // The second image comes; the third waits, until the cancel the second one's arrival causes.
    engine.release();
    engine.hold();
    await panel.until(() => finished(panel), 'the run finished');
    await panel.settle();
    expect(frame.children.map((node) => node.name)).toEqual(['home']);
    expect(panel.main.received.filter((message) => message.type === 'image').map((message) => message.index)).toEqual([0, 1]);
    expect(panel.main.received.at(-1)).toEqual({ type: 'end', end: { status: 'cancelled' } });
    expect(panel.main.notices.map((notice) => notice.message)).toEqual(['Styleset stopped: the frame “Icons” was deleted; 3 of 4 images were not placed.']);
    expect(text('error')).toBe('Stopped: the frame “Icons” was deleted; 3 of 4 images were not placed.');
  });
});

describe('errors in words for people', () => {
  it('shows the command to start the daemon as code in the panel and as plain words in the toast', async () => {
    const url = await startFakeDaemon();
    await daemon!.close();
    daemon = undefined;
    const { panel, text } = await ready({ daemonUrl: url });
    panel.element<HTMLElement>('generate').click();
    await panel.until(() => finished(panel), 'the run failed');
    const error = panel.element<HTMLElement>('error');
    expect(text('error')).toBe(`The Styleset daemon is not running at ${DEFAULT_DAEMON_URL}. Start it in a terminal with npx styleset serve, or at every login with styleset service install, then try again.`);
    expect([...error.querySelectorAll('code')].map((node) => node.textContent)).toEqual(['npx styleset serve', 'styleset service install']);
    expect(panel.main.notices).toEqual([
      {
        message: `Styleset placed nothing: The Styleset daemon is not running at ${DEFAULT_DAEMON_URL}. Start it in a terminal with npx styleset serve, or at every login with styleset service install, then try again.`,
        options: { error: true, timeout: 10_000 },
      },
    ]);
    for (const shown of [text('error'), text('status'), panel.main.notices[0].message]) expect(shown).not.toMatch(/`|\bcode \d{4}\b/);
  });

  it('points at the token field, invalid and focused, when the daemon refuses the token', async () => {
    const { panel, text } = await ready({ daemonUrl: await startFakeDaemon(), storedToken: 'not-the-token' });
    panel.element<HTMLElement>('generate').click();
    await panel.until(() => finished(panel), 'the run failed');
    const tokenField = panel.element<HTMLInputElement>('token');
    expect(panel.document.activeElement).toBe(tokenField);
    expect(tokenField.classList.contains('invalid')).toBe(true);
    expect(text('error')).toBe('The daemon did not accept this pairing token. Run npx styleset pair in a terminal and paste the token it prints.');
    expect(panel.main.notices[0].message).not.toContain('`');
  });
});

describe('the panel’s styles, as computed', () => {
  const DANGER = /#e03e1a|rgb\(224, 62, 26\)/i;

  it('hides every element while it is hidden, whatever display a rule gives it', async () => {
    const { panel } = await ready();
    const all = [...panel.document.body.querySelectorAll('*')].filter((node) => node.tagName !== 'SCRIPT') as HTMLElement[];
    expect(all.length).toBeGreaterThan(15);
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
