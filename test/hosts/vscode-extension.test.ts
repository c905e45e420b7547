import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium';
import { startCodeServer, type CodeServer } from './support/code-server';
import { startDaemonProcess, type DaemonProcess } from './support/vscode-daemon';
import { Workbench } from './support/vscode-workbench';

/**
 * The packaged extension (.vsix, built by the project's own vsce) in a real VS Code (code-server,
 * installed by .ci/install-code-server), driven in Debian's Chromium, against a real daemon
 * (`styleset serve`) on the embedded icon model, in a fixture workspace. Each step asserts on the
 * files on disk and on what VS Code shows. With STYLESET_UPDATE_SCREENSHOTS=1 the README's
 * screenshots are written to docs/images/vscode/.
 */

const repo = join(import.meta.dirname, '../..');
const SCREENSHOTS = join(repo, 'docs/images/vscode');
const updateScreenshots = process.env.STYLESET_UPDATE_SCREENSHOTS === '1';

let root: string;
let workspace: string;
let daemon: DaemonProcess;
let codeServer: CodeServer;
let browser: Browser;
let page: Page;
let vscode: Workbench;

/** A small site that references images it does not have yet. */
const FIXTURE: Record<string, string> = {
  'index.html': [
    '<!doctype html>',
    '<title>Fox &amp; Co.</title>',
    '<img src="img/hero.png" alt="A red fox" width="64" height="64">',
    '<img src="img/cart.jpg" alt="A shopping cart" width="64" height="64">',
    '<img src="img/heart.webp" alt="A heart" width="32" height="32">',
    '<img src="img/badge.svg" alt="A badge" width="64" height="64">',
    '<img src="img/logo.png" alt="Logo">',
    '<img src="placeholders/team.png" alt="Team">',
    '<img src="img/spinner.gif">',
    '',
  ].join('\n'),
  'about.html': ['<!doctype html>', '<img src="icons/home.png" alt="A house">', '<img src="icons/search.png" alt="A magnifying glass">', ''].join('\n'),
  'contact.md': ['# Contact', '', '![An envelope](icons/mail.png)', ''].join('\n'),
  'gallery.html': ['<!doctype html>', ...['sun', 'moon', 'cloud', 'tree', 'leaf', 'fish', 'bird', 'boat'].map((name) => `<img src="gallery/${name}.png" alt="A ${name}">`), ''].join('\n'),
};

const SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.colorTheme': 'Default Light Modern',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'editor.minimap.enabled': false,
  'telemetry.telemetryLevel': 'off',
  // Few steps: the embedded model makes a 128x128 icon in well under a second per step here.
  'styleset.steps': 12,
};

const onDisk = (path: string) => readFile(join(workspace, path)).then((bytes) => new Uint8Array(bytes), () => undefined);

/** Width, height and how many distinct colours: a generated picture, not a blank. */
function pngFacts(bytes: Uint8Array) {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, colours: distinctColours(png.data) };
}

function distinctColours(rgba: Uint8Array): number {
  const colours = new Set<number>();
  for (let i = 0; i < rgba.length; i += 4) colours.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return colours.size;
}

/** The daemon's job records: what it was asked for, and how each job ended. */
async function jobs(): Promise<{ kind: string; state: string; prompts: string[]; trajectoryKey?: string; options: { width: number; height: number; format: string } }[]> {
  const folder = join(daemon.dataDir, 'jobs');
  const ids = await readdir(folder).catch(() => [] as string[]);
  const records = await Promise.all(ids.map(async (id) => JSON.parse(await readFile(join(folder, id, 'job.json'), 'utf8'))));
  return records.sort((a, b) => a.timings.createdAt - b.timings.createdAt);
}

async function trajectories(): Promise<string[]> {
  return (await readdir(join(daemon.dataDir, 'trajectories')).catch(() => [] as string[])).filter((name) => name.endsWith('.npy'));
}

/** Always kept with the test's files (for a failure); into the README's folder when asked. */
async function screenshot(name: string): Promise<void> {
  await vscode.settleForScreenshot();
  const path = join(root, 'screenshots', `${name}.png`);
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path });
  if (updateScreenshots) {
    await mkdir(SCREENSHOTS, { recursive: true });
    await copyFile(path, join(SCREENSHOTS, `${name}.png`));
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-vscode-host-'));
  workspace = join(root, 'workspace');
  for (const [path, text] of Object.entries(FIXTURE)) {
    await mkdir(dirname(join(workspace, path)), { recursive: true });
    await writeFile(join(workspace, path), text);
  }
  // A real logo (left alone), a placeholder (replaced) and the style image to choose.
  await mkdir(join(workspace, 'img'), { recursive: true });
  await mkdir(join(workspace, 'placeholders'), { recursive: true });
  await mkdir(join(workspace, 'brand'), { recursive: true });
  await copyFile(join(repo, 'docs/images/vector/clean-02.png'), join(workspace, 'img/logo.png'));
  await copyFile(join(repo, 'docs/images/vector/clean-03.png'), join(workspace, 'placeholders/team.png'));
  await copyFile(join(repo, 'docs/images/vector/clean-01.png'), join(workspace, 'brand/star.png'));

  const vsixDir = join(root, 'vsix');
  await promisify(execFile)(process.execPath, [join(repo, 'packages/vscode-ext/package.mjs'), vsixDir]);
  const [vsix] = await readdir(vsixDir);

  daemon = await startDaemonProcess(join(root, 'daemon'));
  codeServer = await startCodeServer({
    workspace,
    home: join(root, 'code-server'),
    settings: { ...SETTINGS, 'styleset.daemonUrl': daemon.url },
    extensions: [join(vsixDir, vsix)],
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  vscode = new Workbench(page);
  await vscode.open(codeServer.url);
});

afterAll(async () => {
  await browser?.close();
  await codeServer?.close();
  await daemon?.close();
  if (process.env.STYLESET_KEEP_HOST_FILES !== '1') await rm(root, { recursive: true, force: true });
});

describe('the extension in VS Code', () => {
  it('marks every reference to a missing or placeholder image, and the Problems view lists them', async () => {
    await vscode.openFile('index.html');
    await vscode.squiggles('warning').nth(4).waitFor();
    expect(await vscode.squiggles('warning').count()).toBe(5);
    expect(await vscode.problems()).toEqual([
      // VS Code counts the warnings in the heading and lists them first.
      '6 problems in file index.html of folder .',
      'Warning: img/hero.png does not exist. Styleset can generate it. at line 3 and character 11. generated by Styleset',
      'Warning: img/cart.jpg does not exist. Styleset can generate it. at line 4 and character 11. generated by Styleset',
      'Warning: img/heart.webp does not exist. Styleset can generate it. at line 5 and character 11. generated by Styleset',
      'Warning: img/badge.svg does not exist. Styleset can generate it. at line 6 and character 11. generated by Styleset',
      'Warning: img/spinner.gif does not exist. Styleset writes PNG, JPEG, WebP and SVG images, not GIF. at line 9 and character 11. generated by Styleset',
      'Info: placeholders/team.png is a placeholder (styleset.placeholderGlob). Styleset can replace it. at line 8 and character 11. generated by Styleset',
    ]);
    await screenshot('01-diagnostics');
  });

  it('a wrong pairing token is refused with Enter Token, which asks again and goes on', async () => {
    expect(await vscode.quickFixesAtNextProblem()).toEqual(['Generate this image with Styleset', 'Generate all missing images in this file']);
    await screenshot('02-quick-fix');
    await vscode.chooseQuickFix('Generate this image with Styleset');
    expect(await vscode.answerInputBox('not-the-token')).toMatch(/The Styleset daemon needs its pairing token once\. Run "styleset pair"/);
    const refusal = await vscode.waitForNotification(/enter the token/);
    expect(refusal).toEqual({ message: "Styleset: enter the token that 'styleset pair' prints. The daemon did not accept the stored pairing token.", buttons: ['Enter Token'] });
    expect(await onDisk('img/hero.png')).toBeUndefined();
    await vscode.clickNotificationButton(/enter the token/, 'Enter Token');
    expect(await vscode.answerInputBox(daemon.token)).toMatch(/The daemon did not accept the stored pairing token\./);
    expect(await vscode.waitForNotification(/Styleset wrote/)).toEqual({ message: 'Styleset wrote img/hero.png.', buttons: [] });
    // The quick fix made that one image, at the size its attributes give.
    expect(pngFacts((await onDisk('img/hero.png'))!)).toMatchObject({ width: 64, height: 64, colours: expect.any(Number) });
    expect(pngFacts((await onDisk('img/hero.png'))!).colours).toBeGreaterThan(16);
    expect([await onDisk('img/cart.jpg'), await onDisk('img/heart.webp')]).toEqual([undefined, undefined]);
    await expect.poll(() => vscode.squiggles('warning').count(), { timeout: 10_000 }).toBe(4);
  });

  it('"Generate all missing images in this file" writes JPEG, WebP and SVG as named, replaces the placeholder, leaves the real logo', async () => {
    const logo = await onDisk('img/logo.png');
    const team = await onDisk('placeholders/team.png');
    await vscode.clearNotifications();
    await vscode.quickFixesAtNextProblem();
    await vscode.chooseQuickFix('Generate all missing images in this file');
    expect(await vscode.waitForNotification(/Styleset wrote/)).toEqual({ message: 'Styleset wrote 4 images.', buttons: [] });
    const cart = (await onDisk('img/cart.jpg'))!;
    expect([...cart.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(jpeg.decode(cart, { useTArray: true })).toMatchObject({ width: 64, height: 64 });
    const heart = Buffer.from((await onDisk('img/heart.webp'))!);
    expect([heart.toString('latin1', 0, 4), heart.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
    // Chromium decodes the WebP: 32x32, as its attributes say.
    // Page-side code as text: the test project is typed for Node, not the DOM.
    const size = await page.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/webp;base64,${heart.toString('base64')}';
      await image.decode();
      return [image.naturalWidth, image.naturalHeight];
    })()`);
    expect(size).toEqual([32, 32]);
    // The SVG the daemon traced, which Chromium draws at its 64x64 view box.
    const badge = Buffer.from((await onDisk('img/badge.svg'))!);
    expect(badge.toString('utf8')).toMatch(/^<svg [^>]*viewBox="0 0 64 64"/);
    const drawn = await page.evaluate(`(async () => {
      const image = new Image();
      image.src = 'data:image/svg+xml;base64,${badge.toString('base64')}';
      await image.decode();
      return [image.naturalWidth, image.naturalHeight];
    })()`);
    expect(drawn).toEqual([64, 64]);
    expect(await onDisk('placeholders/team.png')).not.toEqual(team);
    expect(pngFacts((await onDisk('placeholders/team.png'))!)).toMatchObject({ width: 128, height: 128 });
    expect(await onDisk('img/logo.png')).toEqual(logo);
    expect(await onDisk('img/spinner.gif')).toBeUndefined();
    // Three sizes: a set at the 64x64 the page asks for (PNGs and the SVG traced from them), then
    // the 32x32 heart and the placeholder, which names no size, at the model's 128x128, each in the
    // style of the set's first image.
    expect((await jobs()).slice(-3).map((job) => [job.kind, job.state, job.options.width, job.options.format, job.prompts])).toEqual([
      ['set', 'done', 64, 'both', ['A shopping cart icon', 'A badge']],
      ['reference', 'done', 32, 'png', ['A heart icon']],
      ['reference', 'done', 128, 'png', ['a Team icon']],
    ]);
    await expect.poll(() => vscode.squiggles('warning').count(), { timeout: 10_000 }).toBe(1);
    // The placeholder Styleset filled is one no longer.
    await expect.poll(() => vscode.squiggles('info').count(), { timeout: 10_000 }).toBe(0);
  });

  it('"Use as Styleset style" makes a workspace image the style, inverted once and reused', async () => {
    await vscode.clearNotifications();
    await vscode.expandFolder('brand');
    const menu = await vscode.explorerContextMenu('star.png');
    expect(menu).toContain('Use as Styleset style');
    await screenshot('03-use-as-style');
    await vscode.chooseMenuItem('Use as Styleset style');
    expect(await vscode.waitForNotification(/take their style/)).toEqual({ message: 'Styleset: new images take their style from brand/star.png.', buttons: ['Open Settings'] });
    const saved = JSON.parse(await readFile(join(workspace, '.vscode/settings.json'), 'utf8'));
    expect(saved).toEqual({ 'styleset.styleImage': 'brand/star.png' });

    const inverted = (await trajectories()).length;
    await vscode.openFile('about.html');
    await vscode.command('Styleset: Generate placeholder images for the current file');
    expect(await vscode.quickPickRows()).toEqual([expect.stringMatching(/^icons\/home\.png/), expect.stringMatching(/^icons\/search\.png/)]);
    await vscode.accept();
    expect(await vscode.waitForNotification(/Styleset wrote/)).toEqual({ message: 'Styleset wrote 2 images.', buttons: [] });
    await vscode.openImage('icons', 'home.png');
    await screenshot('04-style-set');
    expect(pngFacts((await onDisk('icons/home.png'))!)).toMatchObject({ width: 128, height: 128 });
    // The daemon inverted the style image once, and keeps the result.
    expect(await trajectories()).toHaveLength(inverted + 1);

    await vscode.clearNotifications();
    await vscode.openFile('contact.md');
    await vscode.quickFixesAtNextProblem();
    await vscode.chooseQuickFix('Generate this image with Styleset');
    expect(await vscode.waitForNotification(/Styleset wrote/)).toEqual({ message: 'Styleset wrote icons/mail.png.', buttons: [] });
    // The same style image and description: the daemon reused its inversion.
    expect(await trajectories()).toHaveLength(inverted + 1);
    const styled = (await jobs()).slice(-2);
    expect(styled.map((job) => [job.kind, job.state, job.prompts])).toEqual([
      ['reference', 'done', ['A house icon', 'A magnifying glass icon']],
      ['reference', 'done', ['An envelope icon']],
    ]);
    expect(styled[0].trajectoryKey).toBeDefined();
    expect(styled[1].trajectoryKey).toBe(styled[0].trajectoryKey);
  });

  it('Cancel stops the job on the daemon; the images written so far stay', async () => {
    await vscode.clearNotifications();
    await writeFile(join(workspace, '.vscode/settings.json'), JSON.stringify({ 'styleset.styleImage': '', 'styleset.steps': 200 }, null, 2));
    await vscode.openFile('gallery.html');
    await vscode.command('Styleset: Generate placeholder images for the current file');
    await vscode.quickPickRows();
    await vscode.accept();
    await vscode.waitForNotification(/Generating|Loading|Drawing|Reading/);
    await vscode.clickNotificationButton(/Generating|Loading|Drawing|Reading/, 'Cancel');
    const closing = await vscode.waitForNotification(/cancelled/);
    expect(closing.message).toMatch(/^Styleset: cancelled (?:before any image was written|after writing \d of 8 images)\.$/);
    const written = (await readdir(join(workspace, 'gallery')).catch(() => [] as string[])).filter((name) => name.endsWith('.png'));
    const said = /after writing (\d) of/.exec(closing.message)?.[1] ?? '0';
    expect(written).toHaveLength(Number(said));
    expect(written.length).toBeLessThan(8);
    const last = (await jobs()).at(-1)!;
    expect([last.kind, last.state, last.prompts.length]).toEqual(['set', 'cancelled', 8]);
    await writeFile(join(workspace, '.vscode/settings.json'), JSON.stringify({ 'styleset.styleImage': '' }, null, 2));
  });

  it('with the daemon stopped it says to start it, with Start Daemon, Retry and Open Settings; Retry goes on once it runs', async () => {
    await vscode.clearNotifications();
    const { port } = daemon;
    await daemon.close();
    await vscode.openFile('gallery.html');
    await vscode.command('Styleset: Generate placeholder images for the current file');
    await vscode.accept();
    const failure = await vscode.waitForNotification(/start the daemon/);
    expect(failure).toEqual({
      message: `Styleset: start the daemon, then retry. Nothing answers at ws://127.0.0.1:${port}; 'styleset service install' starts the daemon at every login.`,
      buttons: ['Start Daemon', 'Retry', 'Open Settings'],
    });
    await screenshot('05-daemon-not-running');
    daemon = await startDaemonProcess(join(root, 'daemon'), port);
    await vscode.clickNotificationButton(/start the daemon/, 'Retry');
    expect(await vscode.waitForNotification(/Styleset wrote/)).toEqual({ message: expect.stringMatching(/^Styleset wrote [1-8] images?\.$/), buttons: [] });
    expect((await readdir(join(workspace, 'gallery'))).filter((name) => name.endsWith('.png'))).toHaveLength(8);
  });
});
