import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../packages/daemon/src/image/png';
import { DEFAULT_DECODE_LIMITS } from '../packages/daemon/src/image/image8';
import { filesFromFolder, startLocalHub, type LocalHub } from './support/local-hub';
import { generateTinyModel } from './support/tiny-models';

// The "done when", as a user types it: HF_ENDPOINT at a local hub, `styleset pull`, then
// `styleset generate --model ID`, through the built CLI (an async child, so the hub in this
// process keeps answering).
const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'bin', 'styleset.js');

let root: string;
let hub: LocalHub;
let files: number;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-pull-cli-'));
  const model = await generateTinyModel(join(root, 'source'), { family: 'sd1', weights: 'external' });
  const repoFiles = await filesFromFolder(model.dir);
  files = repoFiles.length;
  hub = await startLocalHub();
  hub.addRepo({ name: 'owner/tiny-sd', files: [...repoFiles, { path: 'unet/diffusion_pytorch_model.safetensors', content: Buffer.alloc(4096), lfs: true }] });
});

afterAll(async () => {
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

async function styleset(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, HF_ENDPOINT: hub.url, STYLESET_DATA_DIR: join(root, 'data'), HF_TOKEN: '' };
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env, cwd: root });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('styleset pull, models and generate --model ID', () => {
  it('pulls from HF_ENDPOINT, one JSON line per file, then generates with the installed model', async () => {
    const pulled = await styleset('pull', 'owner/tiny-sd', '--as', 'tiny', '--json');
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const events = pulled.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ type: 'resolved', repo: 'owner/tiny-sd', revision: 'main', endpoint: hub.url, id: 'tiny' });
    expect(events[1]).toMatchObject({ type: 'plan', files, skipped: 1 });
    const done = events.filter((e) => e.type === 'file_done');
    expect(done).toHaveLength(files);
    expect(done.every((e) => ['sha256', 'git-sha1'].includes(e.verified))).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'installed', id: 'tiny', family: 'sd1', commit: events[0].commit });
    // Every request went to the endpoint (or the CDN it redirected to).
    expect(hub.requests.length).toBeGreaterThan(files);

    const out = join(root, 'out');
    const generated = await styleset('generate', '--model', 'tiny', '--steps', '2', '--seed', '7', '--out', out, '--json', 'a cat', 'a dog');
    expect(generated.stderr).toBe('');
    expect(generated.code).toBe(0);
    const record = JSON.parse(generated.stdout);
    expect(record.model).toEqual({ id: 'tiny', kind: 'sd1', path: join(root, 'data', 'models', 'tiny') });
    expect((await readdir(out)).sort()).toEqual(['01-a-cat.png', '02-a-dog.png', 'set.json']);
    const png = decodePng(await readFile(join(out, '01-a-cat.png')), 'out', DEFAULT_DECODE_LIMITS);
    expect([png.width, png.height]).toEqual([record.options.width, record.options.height]);
  });

  it('lists installed models with their source and commit, and removes one', async () => {
    const listed = await styleset('models', '--json');
    expect(listed.code).toBe(0);
    const { models } = JSON.parse(listed.stdout);
    expect(models).toEqual([expect.objectContaining({ id: 'tiny', family: 'sd1', repo: 'owner/tiny-sd', commit: expect.stringMatching(/^[0-9a-f]{40}$/), endpoint: hub.url })]);
    const text = await styleset('models');
    expect(text.stdout).toMatch(/^ID\s+FAMILY\s+SIZE\s+SOURCE\s+INSTALLED\ntiny\s+sd1\s+[\d.]+ MB\s+owner\/tiny-sd@[0-9a-f]{12}\s/);

    // The generation cached a rewritten U-Net whose weights are hard links to the model's: removing
    // the model takes that along, or its weights' space would stay taken.
    const cache = join(root, 'data', 'model-cache');
    expect((await readdir(cache)).length).toBeGreaterThan(0);
    const removed = await styleset('models', 'rm', 'tiny');
    expect(removed.code).toBe(0);
    const freed = /removed "tiny": ([\d.]+) MB freed/.exec(removed.stdout);
    expect(Number(freed?.[1]) * 1e6).toBeGreaterThanOrEqual(models[0].bytes - 0.05e6);
    expect(await readdir(cache)).toEqual([]);
    const gone = await styleset('generate', '--model', 'tiny', 'a cat');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/--model tiny: no installed model of that id .*installed: none/);
    const again = await styleset('models', 'rm', 'tiny');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/no installed model "tiny"/);
  });

  it('lists the catalogue and explains a repository that does not exist', async () => {
    const list = await styleset('pull', '--list');
    expect(list.code).toBe(0);
    for (const name of ['sd15', 'sd-turbo', 'sdxl-turbo', 'sdxl-base']) expect(list.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    const missing = await styleset('pull', 'owner/nothing');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^styleset: no repository owner\/nothing on http:\/\/127\.0\.0\.1:\d+, or it is private \(401, RepoNotFound\)/);
  });
});
