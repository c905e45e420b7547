import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LIMITS, PROTOCOL_VERSION, type DaemonMessage } from '@styleset/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exists, isDirectory, writeImage } from '../packages/vscode-ext/src/files';
import { globMatcher } from '../packages/vscode-ext/src/glob';
import { planImages, type SourceFile } from '../packages/vscode-ext/src/plan';
import { runSet, type DaemonConnection, type JobEvent, type SetImage } from '../packages/vscode-ext/src/runner';
import { DEFAULT_SETTINGS, optionsFrom } from '../packages/vscode-ext/src/settings';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-vscode-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(path: string, content: string | Uint8Array = 'existing'): Promise<string> {
  const file = join(root, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

async function sources(files: Record<string, string>): Promise<SourceFile[]> {
  return Promise.all(Object.entries(files).map(async ([path, text]) => ({ path: await put(path, text), text, folder: root })));
}

/** Writes as the extension does (atomically, never over a file that appeared), into the test's folder. */
const writePng = async (image: SetImage, png: Uint8Array) => (await writeImage({ folder: root, target: image.target, bytes: png, replace: false }), true);

const environment = (styleHint = '') => ({ exists, isDirectory, isPlaceholder: globMatcher(DEFAULT_SETTINGS.placeholderGlob), styleHint });

describe('planImages', () => {
  it('plans each missing or placeholder PNG once, in reference order, with its prompt and where it is used', async () => {
    await mkdir(join(root, 'public'));
    await put('public/brand/logo.png');
    await put('src/placeholders/team.png');
    const files = await sources({
      'src/App.tsx': [
        "import avatar from './assets/user-avatar.png';",
        '<img src="/brand/logo.png" alt="Logo" />',
        '<img src="/icons/settings.png" />',
        '<img src="./placeholders/team.png" alt="Team photo" />',
      ].join('\n'),
      'src/styles.css': '.x { background: url(./assets/user-avatar.png) }',
      'src/Profile.tsx': '<img src="./assets/user-avatar.png" alt="Profile picture of the user" />',
    });
    const plan = await planImages(files, environment('flat'));
    expect(plan.skipped).toEqual([]);
    expect(plan.images).toEqual([
      {
        target: join(root, 'src/assets/user-avatar.png'),
        folder: root,
        reason: 'missing',
        format: 'png',
        // The import has no alt text; a later reference's alt wins over the file name.
        prompt: 'Profile picture of the user, flat',
        mentions: [
          { file: join(root, 'src/App.tsx'), line: 1 },
          { file: join(root, 'src/styles.css'), line: 1 },
          { file: join(root, 'src/Profile.tsx'), line: 1 },
        ],
      },
      { target: join(root, 'public/icons/settings.png'), folder: root, reason: 'missing', format: 'png', prompt: 'a settings icon, flat', mentions: [{ file: join(root, 'src/App.tsx'), line: 3 }] },
      { target: join(root, 'src/placeholders/team.png'), folder: root, reason: 'placeholder', format: 'png', prompt: 'a Team photo, flat', mentions: [{ file: join(root, 'src/App.tsx'), line: 4 }] },
    ]);
  });

  it('leaves existing images alone unless the placeholder glob marks them', async () => {
    await put('img/a.png');
    await put('img/stub/b.png');
    const files = await sources({ 'index.html': '<img src="img/a.png"><img src="img/stub/b.png">' });
    expect((await planImages(files, environment())).images).toEqual([]);
    const plan = await planImages(files, { ...environment(), isPlaceholder: globMatcher('img/stub/*.png') });
    expect(plan.images.map((image) => [image.target, image.reason])).toEqual([[join(root, 'img/stub/b.png'), 'placeholder']]);
  });

  it('resolves root paths against the folder itself when it has no public/ or static/', async () => {
    const files = await sources({ 'docs/page.html': '<img src="/shared/icon.png">' });
    expect((await planImages(files, environment())).images[0].target).toBe(join(root, 'shared/icon.png'));
  });

  it('skips, with a reason, missing images it cannot fill: other formats and paths outside the workspace', async () => {
    const files = await sources({ 'README.md': '![Diagram](docs/flow.gif)\n![x](../../outside.png)\n![Ok](docs/ok.png)' });
    const plan = await planImages(files, environment());
    expect(plan.images.map((image) => image.target)).toEqual([join(root, 'docs/ok.png')]);
    expect(plan.skipped).toEqual([
      { target: join(root, 'docs/flow.gif'), why: 'Styleset writes PNG, JPEG, WebP and SVG images, not GIF' },
      { target: join(root, '../../outside.png'), why: 'it is outside the workspace folder' },
    ]);
  });

  it('ignores files of types it does not read', async () => {
    const files = await sources({ 'notes.txt': '<img src="a.png">' });
    expect(await planImages(files, environment())).toEqual({ images: [], skipped: [] });
  });
});

/** A connection that replays scripted daemon events for a submitted set, recording what it was asked. */
class ScriptedConnection implements DaemonConnection {
  submitted: { prompts: string[]; options?: object }[] = [];
  cancelled: string[] = [];
  private release?: () => void;

  constructor(private readonly events: JobEvent[], private readonly options: { pauseAfter?: number; refuse?: Error; position?: number } = {}) {}

  async submit(request: { prompts: string[]; options?: object }) {
    if (this.options.refuse) throw this.options.refuse;
    this.submitted.push(request);
    const { events, options } = this;
    const paused = new Promise<void>((resolve) => (this.release = resolve));
    return {
      jobId: 'job1',
      position: options.position,
      async *[Symbol.asyncIterator]() {
        for (const [index, event] of events.entries()) {
          if (index === options.pauseAfter) await paused;
          yield event;
        }
      },
    };
  }

  async cancel(jobId: string) {
    this.cancelled.push(jobId);
    this.release?.();
    return undefined;
  }
}

const v = PROTOCOL_VERSION;
const result = (index: number): JobEvent => ({
  message: { v, type: 'result', jobId: 'job1', index, prompt: `p${index}`, seed: index, width: 64, height: 64, attachment: { byteLength: 1, mime: 'image/png' } },
  bytes: new Uint8Array([index + 1]),
});
const event = (message: DaemonMessage): JobEvent => ({ message });
const progress = event({ v, type: 'progress', jobId: 'job1', phase: 'denoising', step: 1, total: 4 });
const progressWithEta = event({ v, type: 'progress', jobId: 'job1', phase: 'denoising', step: 2, total: 4, etaMs: 3000 });
const done = event({ v, type: 'done', jobId: 'job1', count: 2, timings: { queuedMs: 0, runMs: 1, phases: {} } });

describe('runSet', () => {
  const images = (): SetImage[] => [
    { prompt: 'a home icon', target: join(root, 'public/icons/home.png') },
    { prompt: 'a user avatar icon', target: join(root, 'src/assets/deep/user-avatar.png') },
  ];

  it('submits one set and writes each PNG to its own target as it arrives', async () => {
    const connection = new ScriptedConnection([progress, result(1), result(0), done]);
    const seen: string[] = [];
    const outcome = await runSet({
      connection,
      images: images(),
      options: { steps: 4 },
      write: writePng,
      onProgress: ({ phase, step, total }) => seen.push(`${phase} ${step}/${total}`),
      onWritten: (target, index) => seen.push(`${index} ${target}`),
    });
    expect(connection.submitted).toEqual([{ kind: 'set', prompts: ['a home icon', 'a user avatar icon'], options: { steps: 4 } }]);
    expect(outcome).toEqual({ status: 'done', written: [images()[1].target, images()[0].target] });
    expect(seen).toEqual(['denoising 1/4', `1 ${images()[1].target}`, `0 ${images()[0].target}`]);
    expect([...(await readFile(images()[0].target))]).toEqual([1]);
    expect([...(await readFile(images()[1].target))]).toEqual([2]);
  });

  it('passes on the queue position and the daemon\'s time estimate', async () => {
    const connection = new ScriptedConnection([progress, progressWithEta, result(0), result(1), done], { position: 3 });
    const seen: unknown[] = [];
    await runSet({ connection, images: images(), write: writePng, onAccepted: (ahead) => seen.push(ahead), onProgress: (event) => seen.push(event) });
    expect(seen).toEqual([3, { phase: 'denoising', step: 1, total: 4 }, { phase: 'denoising', step: 2, total: 4, etaMs: 3000 }]);
  });

  it('cancels the job when aborted and reports what was written', async () => {
    const cancelledEvent = event({ v, type: 'job_error', jobId: 'job1', code: 'cancelled', message: 'cancelled' });
    const connection = new ScriptedConnection([result(0), cancelledEvent], { pauseAfter: 1 });
    const controller = new AbortController();
    const outcome = await runSet({ connection, images: images(), write: writePng, signal: controller.signal, onWritten: () => controller.abort() });
    expect(connection.cancelled).toEqual(['job1']);
    expect(outcome).toEqual({ status: 'cancelled', written: [images()[0].target] });
  });

  it('does not submit when cancelled before it starts', async () => {
    const connection = new ScriptedConnection([done]);
    const outcome = await runSet({ connection, images: images(), write: writePng, signal: AbortSignal.abort() });
    expect(outcome).toEqual({ status: 'cancelled', written: [] });
    expect(connection.submitted).toEqual([]);
  });

  it('reports a job error with its code, keeping what was written', async () => {
    const failed = event({ v, type: 'job_error', jobId: 'job1', code: 'internal', message: 'out of memory' });
    const outcome = await runSet({ connection: new ScriptedConnection([result(0), failed]), images: images(), write: writePng });
    expect(outcome).toMatchObject({ status: 'failed', written: [images()[0].target], error: { code: 'internal', message: 'out of memory' } });
  });

  it('reports a refused submission', async () => {
    const refusal = Object.assign(new Error('the daemon is busy'), { code: 'queue_full' });
    const outcome = await runSet({ connection: new ScriptedConnection([], { refuse: refusal }), images: images(), write: writePng });
    expect(outcome).toEqual({ status: 'failed', written: [], error: refusal });
  });

  it('stops and cancels the job when a file cannot be written', async () => {
    await put('public/icons');
    const connection = new ScriptedConnection([result(0), result(1), done]);
    const outcome = await runSet({ connection, images: images(), write: writePng });
    expect(outcome.status).toBe('failed');
    expect((outcome.error as Error).message).toMatch(new RegExp(`^cannot write ${images()[0].target.replace(/[\\/.]/g, '\\$&')}: `));
    // Its own code, so the message can say what to do about it.
    expect(outcome.error).toMatchObject({ code: 'write_failed', target: images()[0].target });
    expect(connection.cancelled).toEqual(['job1']);
  });
});

describe('optionsFrom', () => {
  it('leaves unset options to the daemon and passes set ones', () => {
    expect(optionsFrom(DEFAULT_SETTINGS)).toEqual({ ok: true, options: {} });
    expect(optionsFrom({ ...DEFAULT_SETTINGS, model: ' sd15 ', steps: 12 })).toEqual({ ok: true, options: { model: 'sd15', steps: 12 } });
  });

  it('checks steps against the protocol limits and the URL scheme, naming the setting', () => {
    const tooMany = optionsFrom({ ...DEFAULT_SETTINGS, steps: LIMITS.steps.max + 1 });
    expect(tooMany).toEqual({ ok: false, error: expect.stringMatching(/^styleset\.steps: /), setting: 'styleset.steps' });
    expect(optionsFrom({ ...DEFAULT_SETTINGS, steps: 2.5 })).toEqual({ ok: false, error: expect.stringMatching(/^styleset\.steps: /), setting: 'styleset.steps' });
    expect(optionsFrom({ ...DEFAULT_SETTINGS, daemonUrl: 'http://127.0.0.1:7391' })).toEqual({ ok: false, error: expect.stringContaining('ws:// or wss://'), setting: 'styleset.daemonUrl' });
  });
});
