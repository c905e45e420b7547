import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StylesetClient } from '../packages/daemon/src/server/client';
import type { Daemon } from '../packages/daemon/src/server/daemon';
import type { FakeEngine } from '../packages/daemon/test/server/support/fake-engine';
import { startSavedStyleDaemon, type SavedStyleDaemon } from './support/saved-style-daemon';
import { VscodeHost, type QuickPick } from './support/vscode-host';
import { TOKEN_KEY, buildExtensionBundle } from './support/vscode-ext-bundle';

/**
 * A saved style from the daemon as the workspace's style, as a user meets it: the real bundle in
 * the scripted stand-in for VS Code, against a real daemon (fake engine) that keeps a style
 * saved from a set of another client's.
 */


let saved: SavedStyleDaemon;
let root: string;
let dist: string;
let bundle: string;
let token: string;
let daemon: Daemon;
let engine: FakeEngine;

beforeAll(async () => {
  saved = await startSavedStyleDaemon('styleset-vscode-saved-style-');
  ({ root, token, daemon, engine } = saved);
  dist = join(root, 'dist');
  bundle = await buildExtensionBundle(dist);
});

afterAll(async () => {
  await saved?.close();
});

async function open(files: Record<string, string>, settings: Record<string, unknown> = {}): Promise<{ host: VscodeHost; workspace: string }> {
  const workspace = join(root, 'workspace');
  await rm(workspace, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(workspace, path)), { recursive: true });
    await writeFile(join(workspace, path), content);
  }
  const host = new VscodeHost(workspace, []);
  host.secrets.set(TOKEN_KEY, token);
  Object.assign(host.settings, { 'styleset.daemonUrl': daemon.url, 'styleset.steps': 2 }, settings);
  host.activate(bundle, dist);
  return { host, workspace };
}

const PAGE = '<img src="img/a.png" alt="A star"><img src="img/b.png" width="16" height="16">';

describe('a saved style from the daemon', () => {
  it('"Use a saved style from the daemon" lists the daemon\'s styles; the pick becomes the setting and sets run in it', async () => {
    const { host, workspace } = await open({ 'index.html': PAGE, 'brand/old.png': 'not read' }, { 'styleset.styleImage': 'brand/old.png' });
    let offered: QuickPick | undefined;
    host.onQuickPick = (pick) => {
      offered = pick;
      pick.select(pick.items.filter((item) => item.label === 'brand'));
      pick.accept();
    };
    await host.run('styleset.useSavedStyle');
    expect(offered!.items.map((item) => [item.label, item.detail])).toEqual([['brand', 'first image of a set: "a fox", seed 70 · model tiny, 32×32']]);
    // The style image would come first: it is cleared, and the message says so.
    expect(host.updates).toEqual([
      ['styleset.savedStyle', 'brand', 2],
      ['styleset.styleImage', '', 2],
    ]);
    expect(host.shown).toEqual([
      { kind: 'info', message: 'Styleset: new images take the saved style brand (styleset.styleImage, which came first, is cleared: it was brand/old.png).', buttons: ['Open Settings'] },
    ]);

    const before = engine.jobs.length;
    // The images' confirmation: every image, as offered.
    host.onQuickPick = (pick) => pick.accept();
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    // One set per size, each in the style: its reference prompt and seed, its steps (not the
    // steps setting), new images after its set; the image of no size at the style's size.
    const jobs = engine.jobs.slice(before);
    expect(jobs.map((job) => [job.kind, job.referencePrompt, job.firstIndex, job.options.seed, job.options.steps, job.options.width, job.prompts])).toEqual([
      ['set', 'a fox', 3, 70, 3, 32, ['A star icon']],
      ['set', 'a fox', 3, 70, 3, 16, ['a b icon']],
    ]);
    expect(host.shown.at(-1)).toMatchObject({ kind: 'info', message: expect.stringMatching(/2 images/) });
  });

  it('a saved style the daemon does not keep says which it keeps, with Open Settings on the setting', async () => {
    const { host, workspace } = await open({ 'index.html': PAGE }, { 'styleset.savedStyle': 'gone' });
    host.answer = () => 'Open Settings';
    const before = engine.jobs.length;
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    expect(host.shown.filter((shown) => shown.kind === 'error')).toEqual([
      {
        kind: 'error',
        message: 'Styleset: choose a style the daemon keeps in styleset.savedStyle. styleset.savedStyle: the daemon keeps no style "gone" (it keeps brand).',
        buttons: ['Open Settings'],
      },
    ]);
    expect(host.executed).toEqual([['workbench.action.openSettings', 'styleset.savedStyle']]);
    expect(engine.jobs.length).toBe(before);
  });

  it('with no style on the daemon, the command says how to save one and changes nothing', async () => {
    const client = await StylesetClient.connect({ url: daemon.url, token });
    const kept = (await client.listStyles()).map((style) => style.name);
    for (const name of kept) await client.deleteStyle(name);
    await client.close();
    const { host } = await open({ 'index.html': PAGE });
    await host.run('styleset.useSavedStyle');
    expect(host.quickPicks).toEqual([]);
    expect(host.updates).toEqual([]);
    expect(host.shown).toEqual([{ kind: 'info', message: expect.stringContaining('styleset style save NAME --from DIR/set.json'), buttons: [] }]);
  });
});
