// The Figma plugin as the release zip carries it (`npm run release`, scripts/release/figma-zip.ts):
// unzipped, its manifest.json names the files it runs, and those files, taken from the zip rather
// than from the build folder, load in the Figma host page (Debian's Chromium, the UI in a frame
// sandboxed as Figma's) and place a set from the built CLI's daemon.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngSize } from '../../packages/figma-plugin/src/reference-export';
import { buildFigmaZip } from '../../scripts/release/figma-zip';
import { projectVersion } from '../../scripts/release/versions';
import { pluginDir, type BuiltPlugin } from '../support/figma-plugin-host';
import { zipEntries } from '../support/zip-entries';
import { launchChromium } from './support/chromium';
import { daemonFolders, startServe, type Serve } from './support/figma-daemon';
import { openFigmaHost, serveHostPage, type FigmaHost, type FigmaHostServer } from './support/figma-host';

const root = join(import.meta.dirname, '..', '..');
let work: string;
let browser: Browser;
let server: FigmaHostServer;
let folders: Awaited<ReturnType<typeof daemonFolders>>;
let daemon: Serve;
let host: FigmaHost | undefined;
let entries: Map<string, Buffer>;
let folder: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'styleset-figma-zip-'));
  folder = `styleset-figma-${await projectVersion(root)}`;
  // The plugin's dist/ as `npm run test:hosts` built it.
  const zip = await buildFigmaZip(pluginDir, join(work, `${folder}.zip`), folder);
  entries = await zipEntries(zip.file);
  [browser, server, folders] = await Promise.all([launchChromium(), serveHostPage(), daemonFolders()]);
  daemon = await startServe(folders);
});

afterAll(async () => {
  await host?.close();
  await daemon?.stop();
  await Promise.all([browser?.close(), server?.close()]);
  await folders?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('the Figma plugin from its release zip', () => {
  it('opens from the files its manifest names and places a set in the selected frame', async () => {
    const manifestBytes = entries.get(`${folder}/manifest.json`)!;
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { main: string; ui: string; networkAccess: unknown };
    // The host page takes its network policy from the plugin folder's manifest: the zip's is that one.
    expect(Buffer.compare(manifestBytes, await readFile(join(pluginDir, 'manifest.json')))).toBe(0);
    const fromZip: BuiltPlugin = {
      dir: work,
      codeJs: entries.get(`${folder}/${manifest.main}`)!.toString('utf8'),
      uiHtml: entries.get(`${folder}/${manifest.ui}`)!.toString('utf8'),
    };
    host = await openFigmaHost(browser, server, fromZip, { 'styleset.settings': { url: daemon.url, tokens: { [daemon.url]: daemon.token } } });
    const icons = await host.addFrame('Icons', { x: 0, y: 0, width: 300, height: 90 });
    await host.select([icons]);
    await expect.poll(() => host!.ui.locator('#destination').textContent()).toBe('Into “Icons”');
    await host.ui.locator('#names').fill('heart, moon');
    await host.ui.locator('#generate').click();
    await host.untilNotice(1);
    await host.ui.locator('#cancel').waitFor({ state: 'hidden' });
    expect(await host.ui.locator('#status').textContent()).toBe('Placed 2 images in “Icons”.');
    const [frame] = await host.snapshot();
    expect(frame.children.map((node) => node.name)).toEqual(['heart', 'moon']);
    for (const node of frame.children) expect(pngSize(await host.image((node.fills[0] as { imageHash: string }).imageHash))).toEqual({ width: 128, height: 128 });
    expect(host.errors).toEqual([]);
  });
});
