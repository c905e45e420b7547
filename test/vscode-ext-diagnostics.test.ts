import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadOrCreateToken } from '../packages/daemon/src/config/token';
import { startDaemon, type Daemon } from '../packages/daemon/src/server/daemon';
import { FakeEngine, fakePng, type FakeEngineOptions } from '../packages/daemon/test/server/support/fake-engine';
import { DiagnosticSeverity, Uri, VscodeHost, type TextDocument } from './support/vscode-host';
import { TOKEN_KEY, buildExtensionBundle } from './support/vscode-ext-bundle';

/**
 * Diagnostics, quick fixes, sizes, formats and the workspace's style image as a user meets them:
 * the real bundle in a scripted stand-in for VS Code, against a real daemon with the fake engine.
 * (test/hosts/vscode-*.test.ts does the same in a real VS Code.)
 */


let root: string;
let dist: string;
let bundle: string;
let token: string;
let daemon: Daemon;
let engine: FakeEngine;
let dataDir: string;
let workspace: string;
let host: VscodeHost;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-vscode-diagnostics-'));
  dist = join(root, 'dist');
  bundle = await buildExtensionBundle(dist);
  token = await loadOrCreateToken(join(root, 'config'));
});

afterAll(async () => {
  await daemon?.close();
  await rm(root, { recursive: true, force: true });
});

async function serve(options: FakeEngineOptions = {}): Promise<void> {
  await daemon?.close();
  engine = new FakeEngine(options);
  // A data folder per daemon: a test reads the jobs its own daemon stored.
  dataDir = await mkdtemp(join(root, 'data-'));
  daemon = await startDaemon({ engine, dataDir, configDir: join(root, 'config'), host: '127.0.0.1', port: 0 });
}

beforeEach(() => serve());

async function open(files: Record<string, string | Uint8Array>, settings: Record<string, unknown> = {}): Promise<VscodeHost> {
  workspace = join(root, 'workspace');
  await rm(workspace, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(workspace, path)), { recursive: true });
    await writeFile(join(workspace, path), content);
  }
  host = new VscodeHost(workspace, []);
  host.secrets.set(TOKEN_KEY, token);
  Object.assign(host.settings, { 'styleset.daemonUrl': daemon.url, 'styleset.steps': 2 }, settings);
  host.activate(bundle, dist);
  return host;
}

/** The diagnostics of a file as the Problems view lists them: the text they underline, severity, message. */
function problems(document: TextDocument) {
  return (host.diagnostics.get(document.uri.fsPath) ?? []).map((diagnostic) => {
    const lines = document.getText().split('\n');
    const { start, end } = diagnostic.range;
    const text = start.line === end.line ? lines[start.line].slice(start.character, end.character) : '(several lines)';
    return { text, line: start.line + 1, severity: diagnostic.severity, message: diagnostic.message, source: diagnostic.source };
  });
}

/** Diagnostics are checked after a pause (typing) or at once (opening, disk changes): wait for them. */
const settled = <T>(check: () => T | Promise<T>) => vi.waitFor(check, { timeout: 5000, interval: 20 });

/** What a PNG shows (the daemon may store a PNG with other chunks than it was sent). */
const pixels = (png: Uint8Array) => PNG.sync.read(Buffer.from(png)).data;

const onDisk = (path: string) => readFile(join(workspace, path)).then((bytes) => new Uint8Array(bytes), () => undefined);

const PAGE = [
  '<img src="img/hero.png" alt="Hero" width="32" height="32">',
  '<img src="img/logo.png" alt="Logo">',
  '<img src="placeholders/team.png" alt="Team">',
  '<img src="img/spinner.gif">',
  '<img src="../../outside.png">',
  '<img src="img/hero.png" alt="Hero again">',
].join('\n');

describe('diagnostics', () => {
  it('mark every reference to a missing or placeholder image, at the path, with what Styleset can do', async () => {
    await open({ 'index.html': PAGE, 'img/logo.png': fakePng(8, 8, 1), 'placeholders/team.png': fakePng(8, 8, 2) });
    const document = await host.openDocument(join(workspace, 'index.html'));
    await settled(() => expect(host.diagnostics.get(document.uri.fsPath)).toBeDefined());
    expect(problems(document)).toEqual([
      { text: 'img/hero.png', line: 1, severity: DiagnosticSeverity.Warning, message: 'img/hero.png does not exist. Styleset can generate it.', source: 'Styleset' },
      { text: 'placeholders/team.png', line: 3, severity: DiagnosticSeverity.Information, message: 'placeholders/team.png is a placeholder (styleset.placeholderGlob). Styleset can replace it.', source: 'Styleset' },
      { text: 'img/spinner.gif', line: 4, severity: DiagnosticSeverity.Warning, message: 'img/spinner.gif does not exist. Styleset writes PNG, JPEG, WebP and SVG images, not GIF.', source: 'Styleset' },
      { text: '../../outside.png', line: 5, severity: DiagnosticSeverity.Warning, message: '../../outside.png does not exist. It is outside the workspace folder.', source: 'Styleset' },
      { text: 'img/hero.png', line: 6, severity: DiagnosticSeverity.Warning, message: 'img/hero.png does not exist. Styleset can generate it.', source: 'Styleset' },
    ]);
  });

  it('follow edits (unsaved text), images appearing on disk, and the placeholder setting', async () => {
    await open({ 'index.html': '<img src="a.png">', 'placeholders/p.png': fakePng(8, 8, 1) });
    const document = await host.openDocument(join(workspace, 'index.html'));
    await settled(() => expect(problems(document).map((p) => p.text)).toEqual(['a.png']));
    host.edit(document, '<img src="a.png">\n<img src="b.png"><img src="placeholders/p.png">');
    await settled(() => expect(problems(document).map((p) => p.text)).toEqual(['a.png', 'b.png', 'placeholders/p.png']));
    await writeFile(join(workspace, 'a.png'), fakePng(8, 8, 3));
    host.fileCreated(join(workspace, 'a.png'));
    await settled(() => expect(problems(document).map((p) => p.text)).toEqual(['b.png', 'placeholders/p.png']));
    await (host.api() as { workspace: { getConfiguration(s: string): { update(k: string, v: unknown, t: number): Promise<void> } } }).workspace
      .getConfiguration('styleset')
      .update('placeholderGlob', 'nothing/**', 2);
    await settled(() => expect(problems(document).map((p) => p.text)).toEqual(['b.png']));
  });

  it('let go of a placeholder once Styleset has filled it, and take it up again when something else changes it', async () => {
    await open({ 'index.html': '<img src="placeholders/a.png">', 'placeholders/a.png': fakePng(8, 8, 1) });
    const document = await host.openDocument(join(workspace, 'index.html'));
    await settled(() => expect(problems(document).map((p) => p.message)).toEqual(['placeholders/a.png is a placeholder (styleset.placeholderGlob). Styleset can replace it.']));
    await host.apply(host.codeActions(document, host.diagnostics.get(document.uri.fsPath)!)[0]);
    expect(await onDisk('placeholders/a.png')).toEqual(fakePng(64, 64, engine.jobs[0].options.seed));
    await settled(() => expect(problems(document)).toEqual([]));
    // Generating the file's images again leaves it alone.
    await host.run('styleset.generatePlaceholdersInFile');
    expect(host.shown.at(-1)!.message).toBe('Styleset: this file references no missing or placeholder images.');
    await writeFile(join(workspace, 'placeholders/a.png'), fakePng(8, 8, 2));
    host.fileCreated(join(workspace, 'placeholders/a.png'));
    await settled(() => expect(problems(document)).toHaveLength(1));
  });

  it('offer no quick fix for what Styleset cannot make', async () => {
    await open({ 'index.html': '<img src="a.gif">' });
    const document = await host.openDocument(join(workspace, 'index.html'));
    await settled(() => expect(problems(document)).toHaveLength(1));
    expect(host.codeActions(document, host.diagnostics.get(document.uri.fsPath)!)).toEqual([]);
  });
});

describe('quick fixes', () => {
  it('"Generate this image" writes that image alone, without the list; "Generate all" writes the rest', async () => {
    await open({ 'index.html': '<img src="img/a.png" alt="A star">\n<img src="img/b.png" alt="A moon">\n<img src="img/c.png">' });
    const document = await host.openDocument(join(workspace, 'index.html'));
    await settled(() => expect(problems(document)).toHaveLength(3));
    const [second] = host.diagnostics.get(document.uri.fsPath)!.slice(1, 2);
    const actions = host.codeActions(document, [second]);
    expect(actions.map((action) => [action.title, action.kind, action.isPreferred ?? false, action.diagnostics?.length ?? 0])).toEqual([
      ['Generate this image with Styleset', 'quickfix', true, 1],
      ['Generate all missing images in this file', 'quickfix', false, 0],
    ]);
    await host.apply(actions[0]);
    expect(await onDisk('img/b.png')).toEqual(fakePng(64, 64, engine.jobs[0].options.seed));
    expect([await onDisk('img/a.png'), await onDisk('img/c.png')]).toEqual([undefined, undefined]);
    expect(engine.jobs.map((job) => [job.kind, job.prompts])).toEqual([['set', ['A moon icon']]]);
    expect(host.quickPicks).toEqual([]);
    await settled(() => expect(problems(document).map((p) => p.text)).toEqual(['img/a.png', 'img/c.png']));

    await host.apply(host.codeActions(document, host.diagnostics.get(document.uri.fsPath)!.slice(0, 1))[1]);
    expect(engine.jobs.map((job) => [job.kind, job.prompts])).toEqual([
      ['set', ['A moon icon']],
      ['set', ['A star icon', 'a c icon']],
    ]);
    await settled(() => expect(problems(document)).toEqual([]));
    expect(host.shown.map((shown) => shown.message)).toEqual(['Styleset wrote img/b.png.', 'Styleset wrote 2 images.']);
  });
});

describe('sizes and formats', () => {
  it('generate each size as its own job in the style of the first image, and write JPEG and WebP as named', async () => {
    await open({
      'index.html': '<img src="a.jpg" width="30" height="30">\n<img src="b.webp" style="width: 32px; height: 32px">\n<img src="c.png">',
      'site.css': '.x { width: 48px; height: 24px; background: url(d.png) }',
    });
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    expect(engine.jobs.map((job) => [job.kind, job.options.width, job.options.height, job.prompts.length])).toEqual([
      ['set', 32, 32, 2],
      ['reference', 64, 64, 1],
    ]);
    // The second size takes the style of the set's first image, as it came from the daemon.
    expect(pixels(engine.jobs[1].referenceImage!)).toEqual(pixels(fakePng(32, 32, engine.jobs[0].options.seed)));
    expect(engine.jobs[1].referencePrompt).toBe(engine.jobs[0].prompts[0]);
    const jpg = (await onDisk('a.jpg'))!;
    expect(jpeg.decode(jpg, { useTArray: true })).toMatchObject({ width: 32, height: 32 });
    const webp = Buffer.from((await onDisk('b.webp'))!);
    expect([webp.toString('latin1', 0, 4), webp.toString('latin1', 8, 12)]).toEqual(['RIFF', 'WEBP']);
    expect(await onDisk('c.png')).toEqual(fakePng(64, 64, engine.jobs[1].options.seed));
    expect(host.progress[0]).toContain('Next: 1 image at 64×64 (size 2 of 2)…');
    expect(host.progress[0]).toContain('Drawing c.png — step 2 of 2');
  });

  it('uses the size settings where a reference gives none, and the CSS rule around a url()', async () => {
    await open({ 'site.css': '.x { width: 48px; height: 24px; background: url(d.png) }\n.y { background: url(e.png) }' }, { 'styleset.width': 40, 'styleset.height': 16 });
    await host.openDocument(join(workspace, 'site.css'));
    await host.run('styleset.generatePlaceholdersInFile');
    expect(engine.jobs.map((job) => [job.kind, job.options.width, job.options.height])).toEqual([
      ['set', 48, 24],
      ['reference', 40, 16],
    ]);
  });
});

describe('SVG references', () => {
  it('get the SVG the daemon traced, in the same set as the PNGs (format both)', async () => {
    await open({ 'index.html': '<img src="a.png" alt="A star">\n<img src="logo.svg" alt="A fox logo">' });
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    expect(engine.jobs.map((job) => [job.kind, job.options.format, job.prompts])).toEqual([['set', 'both', ['A star icon', 'A fox logo']]]);
    const { seed } = engine.jobs[0].options;
    expect(await onDisk('a.png')).toEqual(fakePng(64, 64, seed));
    // The SVG as traced, byte for byte: as the daemon stored it with the job.
    const [job] = await readdir(join(dataDir, 'jobs'));
    const svg = await onDisk('logo.svg');
    expect(svg).toEqual(new Uint8Array(await readFile(join(dataDir, 'jobs', job, '01.svg'))));
    expect(Buffer.from(svg!).toString()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 64 64">/);
    expect(host.shown).toEqual([{ kind: 'info', message: 'Styleset wrote 2 images.', buttons: [] }]);
  });

  it('an SVG the daemon could not trace leaves its file missing and says why, with Show Details', async () => {
    await serve({ svgFailures: [1] });
    await open({ 'index.html': '<img src="a.svg" alt="A star">\n<img src="b.svg" alt="A moon">' });
    await host.openDocument(join(workspace, 'index.html'));
    host.answer = () => 'Show Details';
    await host.run('styleset.generatePlaceholdersInFile');
    expect(engine.jobs.map((job) => job.options.format)).toEqual(['both']);
    expect(Buffer.from((await onDisk('a.svg'))!).toString()).toMatch(/^<svg /);
    expect(await onDisk('b.svg')).toBeUndefined();
    expect(host.shown).toEqual([{ kind: 'warning', message: 'Styleset wrote a.svg. b.svg: no SVG: fake failure.', buttons: ['Show Details'] }]);
    expect(host.output.shown).toBe(true);
    expect(host.output.lines.filter((line) => line.includes('Warning'))).toEqual([expect.stringMatching(/Warning: b\.svg: no SVG: fake failure$/)]);
  });
});

describe('the style from the workspace', () => {
  it('"Use as Styleset style" saves the image in the workspace settings; sets then take its style', async () => {
    const style = fakePng(16, 16, 99);
    await open({ 'index.html': '<img src="img/a.png" alt="A star"><img src="img/b.png" width="16" height="16">', 'brand/fox-mascot.png': style });
    await host.run('styleset.useAsStyle', Uri.file(join(workspace, 'brand/fox-mascot.png')));
    expect(host.updates).toEqual([['styleset.styleImage', 'brand/fox-mascot.png', 2]]);
    expect(host.shown).toEqual([{ kind: 'info', message: 'Styleset: new images take their style from brand/fox-mascot.png.', buttons: ['Open Settings'] }]);
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    // Both sizes are reference jobs on the style image, with the same description, so the daemon
    // inverts it once per size and reuses the inversion for every later set.
    expect(engine.jobs.map((job) => [job.kind, job.referencePrompt, job.options.width, job.prompts])).toEqual([
      ['reference', 'a fox mascot icon', 64, ['A star icon']],
      ['reference', 'a fox mascot icon', 16, ['a b icon']],
    ]);
    for (const job of engine.jobs) expect(pixels(job.referenceImage!)).toEqual(pixels(style));
  });

  it('a style image that is gone says so, with Open Settings on the setting', async () => {
    await open({ 'index.html': '<img src="img/a.png">' }, { 'styleset.styleImage': 'brand/gone.png' });
    host.answer = () => 'Open Settings';
    await host.openDocument(join(workspace, 'index.html'));
    await host.run('styleset.generatePlaceholdersInFile');
    expect(host.shown.filter((shown) => shown.kind === 'error')).toEqual([
      { kind: 'error', message: 'Styleset: choose a PNG or JPEG image for styleset.styleImage. styleset.styleImage: there is no brand/gone.png.', buttons: ['Open Settings'] },
    ]);
    expect(host.executed).toEqual([['workbench.action.openSettings', 'styleset.styleImage']]);
    expect(engine.jobs).toEqual([]);
  });
});

describe('a real image is never overwritten without asking', () => {
  it('asks in a dialog when an image appears during the run; Keep leaves it, Replace replaces it', async () => {
    for (const answer of [undefined, 'Replace']) {
      await open({ 'index.html': '<img src="img/a.png"><img src="img/b.png">' });
      await host.openDocument(join(workspace, 'index.html'));
      // Someone saves a real image there between the list and the first write.
      host.onQuickPick = (pick) => void writeFile(join(workspace, 'img/a.png'), 'real').then(() => (mkdirDone = true)).then(() => pick.accept());
      let mkdirDone = false;
      await mkdir(join(workspace, 'img'), { recursive: true });
      host.answer = (shown) => (shown.modal ? answer : undefined);
      await host.run('styleset.generatePlaceholdersInFile');
      expect(mkdirDone).toBe(true);
      expect(host.shown[0]).toEqual({
        kind: 'warning',
        message: 'Styleset: img/a.png exists now; it was missing when generation started. Replace it with the generated image?',
        buttons: ['Replace'],
        modal: true,
      });
      const a = await onDisk('img/a.png');
      if (answer === undefined) expect(Buffer.from(a!).toString()).toBe('real');
      else expect(a).toEqual(fakePng(64, 64, engine.jobs.at(-1)!.options.seed));
      expect(await onDisk('img/b.png')).toBeDefined();
    }
  });
});
