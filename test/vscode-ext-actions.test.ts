import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine } from '../packages/daemon/test/server/support/fake-engine';
import { VscodeHost, type Item, type Shown } from './support/vscode-host';
import { TOKEN_KEY, buildExtensionBundle } from './support/vscode-ext-bundle';

/**
 * The commands as a user meets them, run from the real bundle against a real daemon (with the fake
 * engine), with a scripted stand-in for VS Code: what the notifications say, and that each button
 * does what it says.
 */

const GENERATE = 'styleset.generatePlaceholders';

let root: string;
let dist: string;
let bundle: string;
let token: string;
let workspace: string;
let daemon: Daemon | undefined;
let host: VscodeHost;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-vscode-actions-'));
  dist = join(root, 'dist');
  bundle = await buildExtensionBundle(dist);
  token = await loadOrCreateToken(join(root, 'config'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function serve(port = 0): Promise<Daemon> {
  await daemon?.close();
  daemon = await startDaemon({ engine: new FakeEngine(), dataDir: join(root, 'data'), configDir: join(root, 'config'), host: '127.0.0.1', port });
  return daemon;
}

/** A port nothing listens on: a daemon's, closed again. */
async function freePort(): Promise<number> {
  const { port } = await serve();
  await daemon!.close();
  daemon = undefined;
  return port;
}

/** A workspace with a page that references missing images; the host runs the extension in it. */
async function open(files: Record<string, string>, settings: Record<string, unknown> = {}): Promise<VscodeHost> {
  workspace = join(root, 'workspace');
  await rm(workspace, { recursive: true, force: true });
  const paths: string[] = [];
  for (const [path, text] of Object.entries(files)) {
    const file = join(workspace, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    if (/\.(?:html|css|md)$/.test(path)) paths.push(file);
  }
  host = new VscodeHost(workspace, paths);
  host.secrets.set(TOKEN_KEY, token);
  Object.assign(host.settings, { 'styleset.steps': 2 }, settings);
  host.activate(bundle, dist);
  return host;
}

const PAGE = { 'index.html': '<img src="img/hero.png" alt="Hero"><img src="img/logo.png">' };

const written = async (...paths: string[]) => Promise.all(paths.map((path) => readFile(join(workspace, path)).then(() => true, () => false)));

beforeEach(async () => {
  await serve();
});

afterEach(async () => {
  await daemon?.close();
  daemon = undefined;
});

const errors = () => host.shown.filter((shown) => shown.kind === 'error');

describe('progress in words', () => {
  it('says what the daemon is doing for a set, and what was written', async () => {
    await open(PAGE, { 'styleset.daemonUrl': daemon!.url });
    await host.run(GENERATE);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
    expect(await readFile(join(workspace, 'img/hero.png'))).not.toEqual(await readFile(join(workspace, 'img/logo.png')));
    // The daemon's progress events in order (the fake engine loads its model, draws 2 steps, saves
    // each image); each image's "Saved" comes when its file is written, which may overtake them.
    const [messages] = host.progress;
    expect(host.progress).toHaveLength(1);
    expect(messages.filter((message) => !message.startsWith('Saved '))).toEqual([
      'Generating 2 images in one style…',
      'Loading the model…',
      'Loading the model…',
      'Drawing 2 images — step 1 of 2',
      'Drawing 2 images — step 2 of 2',
      'Saving 1 of 2 images…',
      'Saving 2 of 2 images…',
    ]);
    expect(messages.filter((message) => message.startsWith('Saved '))).toEqual(['Saved img/hero.png (1 of 2)', 'Saved img/logo.png (2 of 2)']);
    expect(host.shown).toEqual([{ kind: 'info', message: 'Styleset wrote 2 images.', buttons: [] }]);
  });

  it('names a single image', async () => {
    await open({ 'index.html': '<img src="img/hero.png" alt="Hero">' }, { 'styleset.daemonUrl': daemon!.url });
    await host.run(GENERATE);
    expect([...host.progress[0]].sort()).toEqual(
      ['Generating 1 image…', 'Loading the model…', 'Loading the model…', 'Drawing hero.png — step 1 of 2', 'Drawing hero.png — step 2 of 2', 'Saving hero.png…', 'Saved img/hero.png'].sort(),
    );
    expect(host.progress[0].slice(0, 5)).toEqual(['Generating 1 image…', 'Loading the model…', 'Loading the model…', 'Drawing hero.png — step 1 of 2', 'Drawing hero.png — step 2 of 2']);
    expect(host.shown).toEqual([{ kind: 'info', message: 'Styleset wrote img/hero.png.', buttons: [] }]);
  });
});

describe('failures and their actions', () => {
  it('offers Start Daemon, Retry and Open Settings when nothing listens; Open Settings opens the URL setting', async () => {
    const port = await freePort();
    await open(PAGE, { 'styleset.daemonUrl': `ws://127.0.0.1:${port}` });
    host.answer = () => 'Open Settings';
    await host.run(GENERATE);
    expect(errors()).toEqual([
      { kind: 'error', message: `Styleset: start the daemon, then retry. Nothing answers at ws://127.0.0.1:${port}; 'styleset service install' starts the daemon at every login.`, buttons: ['Start Daemon', 'Retry', 'Open Settings'] },
    ]);
    expect(host.executed).toEqual([['workbench.action.openSettings', 'styleset.daemonUrl']]);
    // The whole error stays readable in the output channel.
    expect(host.output.name).toBe('Styleset');
    expect(host.output.lines.join('\n')).toMatch(/Start the daemon, then retry: Cannot reach the daemon at .*ECONNREFUSED/);
  });

  it('Start Daemon runs the daemon in a terminal in the folder that has Styleset, waits for it and generates', async () => {
    const port = await freePort();
    await open({ ...PAGE, 'node_modules/.bin/styleset': '#!/bin/sh\n' }, { 'styleset.daemonUrl': `ws://127.0.0.1:${port}` });
    host.answer = ({ kind }) => (kind === 'error' ? 'Start Daemon' : undefined);
    // The "terminal" starts the daemon when the command is typed, as the real one would.
    let started: Promise<Daemon> | undefined;
    host.onTerminalText = () => void (started = serve(port));
    await host.run(GENERATE);
    await started;
    expect(host.terminals).toEqual([{ name: 'Styleset daemon', cwd: workspace, sent: [`npx styleset serve --port ${port}`], shown: true }]);
    expect(host.progress[0]).toEqual(['Waiting for the daemon to start in the terminal "Styleset daemon"…']);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
    expect(host.quickPicks).toHaveLength(1);
    expect(host.shown.map((shown) => shown.message)).toEqual([expect.stringMatching(/^Styleset: start the daemon/), 'Styleset wrote 2 images.']);
  });

  it('Start Daemon runs the configured command in the home folder when the workspace has no Styleset', async () => {
    const port = await freePort();
    await open(PAGE, { 'styleset.daemonUrl': `ws://127.0.0.1:${port}`, 'styleset.daemonCommand': 'styleset serve --port 1' });
    host.answer = ({ kind }) => (kind === 'error' ? 'Start Daemon' : undefined);
    host.onTerminalText = () => void serve(port);
    await host.run(GENERATE);
    expect(host.terminals.map(({ cwd, sent }) => [cwd, sent])).toEqual([[homedir(), ['styleset serve --port 1']]]);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
  });

  it('Retry generates the same images again, without asking again, once the daemon is up', async () => {
    const port = await freePort();
    await open(PAGE, { 'styleset.daemonUrl': `ws://127.0.0.1:${port}` });
    host.answer = async ({ kind }) => {
      if (kind !== 'error') return undefined;
      await serve(port);
      return 'Retry';
    };
    await host.run(GENERATE);
    expect(errors()).toHaveLength(1);
    expect(host.quickPicks).toHaveLength(1);
    expect(host.terminals).toEqual([]);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
  });

  it('Enter Token asks for the token, stores it and retries', async () => {
    await open(PAGE, { 'styleset.daemonUrl': daemon!.url });
    host.secrets.set(TOKEN_KEY, 'an old token');
    host.answer = ({ kind }) => (kind === 'error' ? 'Enter Token' : undefined);
    host.onInputBox = () => token;
    await host.run(GENERATE);
    expect(errors()).toEqual([
      { kind: 'error', message: "Styleset: enter the token that 'styleset pair' prints. The daemon did not accept the stored pairing token.", buttons: ['Enter Token'] },
    ]);
    expect(host.inputBoxes.map((box) => box.prompt)).toEqual([expect.stringMatching(/^The daemon did not accept the stored pairing token\. Run "styleset pair"/)]);
    expect(host.secrets.get(TOKEN_KEY)).toBe(token);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
  });

  it('a dismissed token prompt says where the token comes from, and Enter Token asks again', async () => {
    await open(PAGE, { 'styleset.daemonUrl': daemon!.url });
    host.secrets.clear();
    const answers = [undefined, token];
    host.onInputBox = () => answers.shift();
    host.answer = ({ kind }) => (kind === 'error' ? 'Enter Token' : undefined);
    await host.run(GENERATE);
    expect(errors().map((shown) => [shown.message, shown.buttons])).toEqual([
      ["Styleset: enter the token that 'styleset pair' prints. The daemon needs its pairing token once.", ['Enter Token']],
    ]);
    expect(host.inputBoxes).toHaveLength(2);
    expect(await written('img/hero.png', 'img/logo.png')).toEqual([true, true]);
  });

  it('Open Settings opens the model setting when the daemon has no such model', async () => {
    await open(PAGE, { 'styleset.daemonUrl': daemon!.url, 'styleset.model': 'no-such-model' });
    host.answer = () => 'Open Settings';
    await host.run(GENERATE);
    expect(errors()).toEqual([{ kind: 'error', message: expect.stringMatching(/^Styleset: choose an installed model in styleset\.model\. No model "no-such-model"/), buttons: ['Open Settings'] }]);
    expect(host.executed).toEqual([['workbench.action.openSettings', 'styleset.model']]);
    expect(await written('img/hero.png')).toEqual([false]);
  });

  it('Open Settings opens a setting the extension finds wrong before connecting', async () => {
    await open(PAGE, { 'styleset.daemonUrl': daemon!.url, 'styleset.steps': 100_000 });
    host.answer = () => 'Open Settings';
    await host.run(GENERATE);
    expect(errors()).toEqual([{ kind: 'error', message: expect.stringMatching(/^Styleset: correct styleset\.steps\. styleset\.steps: /), buttons: ['Open Settings'] }]);
    expect(host.executed).toEqual([['workbench.action.openSettings', 'styleset.steps']]);
  });
});

describe('skipped references', () => {
  const SKIPPING = {
    'index.html': '<img src="img/hero.png" alt="Hero">',
    'docs/guide.md': '![Flow](flow.gif)\n![Outside](../../outside.png)',
  };

  it('are listed below the images with their reasons, stay in view while filtering, and cannot be checked', async () => {
    await open(SKIPPING, { 'styleset.daemonUrl': daemon!.url });
    let seen: { title?: string; placeholder?: string; items: readonly Item[]; selected: string[]; afterCheck: string[] } | undefined;
    host.onQuickPick = (pick) => {
      const selected = pick.selectedItems.map((item) => item.label);
      // The user checks every item, skipped ones too.
      pick.select(pick.items.filter((item) => item.kind !== host.QuickPickItemKind.Separator));
      seen = { title: pick.title, placeholder: pick.placeholder, items: pick.items, selected, afterCheck: pick.selectedItems.map((item) => item.label) };
      pick.accept();
    };
    await host.run(GENERATE);
    expect(seen!.title).toBe('Styleset: 1 image to generate in one style · 2 skipped');
    expect(seen!.placeholder).toBe('The first one sets the style for the others');
    expect(seen!.items).toEqual([
      { label: 'img/hero.png', description: 'a Hero icon', detail: 'missing · referenced in index.html:1', image: expect.any(Object) },
      { label: 'Skipped (2)', kind: host.QuickPickItemKind.Separator },
      { label: '$(circle-slash) docs/flow.gif', description: 'skipped', detail: 'Styleset writes PNG, JPEG, WebP and SVG images, not GIF', alwaysShow: true },
      { label: `$(circle-slash) ${join(root, 'outside.png')}`, description: 'skipped', detail: 'it is outside the workspace folder', alwaysShow: true },
    ]);
    expect(seen!.selected).toEqual(['img/hero.png']);
    expect(seen!.afterCheck).toEqual(['img/hero.png']);
    expect(host.quickPicks[0].disposed).toBe(true);
    expect(await written('img/hero.png')).toEqual([true]);
    expect(host.output.lines.filter((line) => line.includes('Skipped'))).toEqual([
      expect.stringMatching(/Skipped docs\/flow\.gif: Styleset writes PNG, JPEG, WebP and SVG images, not GIF$/),
      expect.stringMatching(/Skipped .*outside\.png: it is outside the workspace folder$/),
    ]);
  });

  it('with nothing to generate, Show Details opens the output channel that holds the reasons', async () => {
    await open({ 'docs/guide.md': SKIPPING['docs/guide.md'] }, { 'styleset.daemonUrl': daemon!.url });
    host.answer = () => 'Show Details';
    await host.run(GENERATE);
    expect(host.shown).toEqual<Shown[]>([{ kind: 'info', message: 'Styleset: nothing to generate; 2 references in the workspace were skipped.', buttons: ['Show Details'] }]);
    expect(host.quickPicks).toEqual([]);
    expect(host.output.shown).toBe(true);
    expect(host.output.lines).toHaveLength(2);
  });
});
