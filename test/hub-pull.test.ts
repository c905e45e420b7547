import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hubFromEnv, pullModel, type PullEvent, type PullRequest } from '../packages/daemon/src/hub';
import { listInstalledModels, listPartialDownloads } from '../packages/daemon/src/model-store';
import { filesFromFolder, startLocalHub, type HubFile, type LocalHub } from './support/local-hub';
import { generateTinyModel, type TinyModel } from './support/tiny-models';

let root: string;
let hub: LocalHub;
let model: TinyModel;
let modelFiles: HubFile[];
let dataDir: string;
let run = 0;

const DECOYS: HubFile[] = [
  { path: 'README.md', content: Buffer.from('# tiny\n'), lfs: false },
  { path: '.gitattributes', content: Buffer.from('*.onnx filter=lfs\n'), lfs: false },
  { path: 'unet/diffusion_pytorch_model.safetensors', content: Buffer.alloc(5000, 1), lfs: true },
  { path: 'text_encoder/model.safetensors', content: Buffer.alloc(3000, 2), lfs: true },
  { path: 'safety_checker/model.onnx', content: Buffer.alloc(2000, 3), lfs: true },
];
const WEIGHTS = 'unet/model.onnx_data';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-hub-'));
  model = await generateTinyModel(join(root, 'source'), { family: 'sd1', weights: 'external' });
  modelFiles = await filesFromFolder(model.dir);
  // Four entries a page: the tree listing takes several pages, followed through its Link headers.
  hub = await startLocalHub({ pageSize: 4 });
  hub.addRepo({ name: 'owner/tiny-sd', files: [...modelFiles, ...DECOYS] });
  hub.addRepo({ name: 'owner/in-folder', files: [...(await filesFromFolder(model.dir, 'onnx/')), ...DECOYS] });
  hub.addRepo({ name: 'owner/pytorch-only', files: DECOYS.filter((f) => !f.path.endsWith('.onnx')) });
  hub.addRepo({ name: 'owner/gated-sd', files: modelFiles, gated: true });
  // Every file the listing check asks for, but the U-Net's weights are not there.
  hub.addRepo({ name: 'owner/no-weights', files: modelFiles.filter((f) => f.path !== WEIGHTS) });
  hub.grant('owner/gated-sd', 'hf_granted');
  hub.addToken('hf_other');
});

afterAll(async () => {
  await hub?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  run += 1;
  dataDir = join(root, `data-${run}`);
  hub.requests.length = 0;
});

function pull(overrides: Partial<PullRequest> = {}): Promise<Awaited<ReturnType<typeof pullModel>>> & { events: PullEvent[] } {
  const events: PullEvent[] = [];
  const promise = pullModel({
    spec: 'owner/tiny-sd',
    as: 'tiny',
    dataDir,
    hub: hubFromEnv({ HF_ENDPOINT: hub.url }),
    retryDelayMs: 0,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  return Object.assign(promise, { events });
}

/** The GETs of a file's bytes from the CDN (its address ends in the content's sha256). */
const cdnGets = (path: string) => hub.requests.filter((r) => r.method === 'GET' && r.path === `/cdn/lfs/${lfsSha(path)}`);

function lfsSha(path: string): string {
  return createHash('sha256').update(modelFiles.find((f) => f.path === path)!.content).digest('hex');
}

async function sameBytes(installedDir: string, files: HubFile[]): Promise<void> {
  for (const file of files) expect(Buffer.compare(await readFile(join(installedDir, file.path)), file.content), file.path).toBe(0);
}

describe('styleset pull against a local hub', () => {
  it('installs exactly the files the pipeline needs, each verified, pinned to the commit', async () => {
    const result = await pull();
    const installed = await listInstalledModels(dataDir);
    expect(installed.map((m) => m.id)).toEqual(['tiny']);
    const record = installed[0].record;
    expect(record.source).toEqual({ endpoint: hub.url, repo: 'owner/tiny-sd', revision: 'main', commit: result.record.source.commit });
    expect(record.source.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(record.family).toBe('sd1');

    // Every file of the export, byte for byte; nothing else (PyTorch weights, the safety checker, docs).
    const expected = modelFiles.map((f) => f.path).sort();
    expect(record.files.map((f) => f.path).sort()).toEqual(expected);
    await sameBytes(installed[0].dir, modelFiles);
    const fetched = new Set(hub.requests.filter((r) => r.path.includes('/resolve/')).map((r) => decodeURIComponent(r.path.split('/').slice(5).join('/'))));
    expect([...fetched].sort()).toEqual(expected);
    expect(record.bytes).toBe(modelFiles.reduce((sum, f) => sum + f.content.length, 0));

    // Resolved at the pinned commit, LFS files through the CDN redirect, the listing over several pages.
    expect(hub.requests.filter((r) => r.path.includes('/resolve/')).every((r) => r.path.includes(`/resolve/${record.source.commit}/`))).toBe(true);
    expect(cdnGets(WEIGHTS)).toHaveLength(1);
    expect(hub.requests.filter((r) => r.path.startsWith('/api/models/owner/tiny-sd/tree/')).length).toBeGreaterThan(3);
    // LFS files are checked by sha256, files in git by their blob id.
    expect(record.files.find((f) => f.path === WEIGHTS)!.sha256).toBe(lfsSha(WEIGHTS));
    expect(record.files.find((f) => f.path === 'model_index.json')!.gitOid).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reports each file as verified, then the installed model, and nothing to do the second time', async () => {
    const first = pull();
    await first;
    const done = first.events.filter((e) => e.type === 'file_done');
    expect(done).toHaveLength(modelFiles.length);
    expect(new Set(done.map((e) => (e.type === 'file_done' ? e.verified : '')))).toEqual(new Set(['sha256', 'git-sha1']));
    expect(first.events.at(-1)).toMatchObject({ type: 'installed', id: 'tiny', family: 'sd1' });

    hub.requests.length = 0;
    const again = await pull();
    expect(again.upToDate).toBe(true);
    expect(hub.requests.filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'))).toEqual([]);
  });

  it('sends HF_TOKEN to the hub and never to the CDN it redirects to', async () => {
    await pull({ spec: 'owner/gated-sd', hub: hubFromEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_granted' }) });
    const resolves = hub.requests.filter((r) => r.path.includes('/resolve/'));
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/'));
    expect(resolves.filter((r) => r.method === 'HEAD').length).toBe(modelFiles.length);
    expect(resolves.every((r) => r.authorization === 'Bearer hf_granted')).toBe(true);
    expect(cdn.length).toBe(modelFiles.filter((f) => f.lfs).length);
    expect(cdn.every((r) => r.authorization === undefined)).toBe(true);
  });

  it('resumes a file whose connection dropped, from the byte where the file on disk ends', async () => {
    const cut = 300_000;
    hub.dropAfter(WEIGHTS, [cut]);
    const result = pull();
    await result;
    // The server sent `cut` bytes before dropping the connection; how many of them reached the file
    // depends on what the client had read when it saw the drop, so the retry is checked against the file.
    const retries = result.events.filter((e) => e.type === 'retry');
    expect(retries).toEqual([{ type: 'retry', path: WEIGHTS, at: expect.any(Number), attempt: 2, reason: expect.any(String) }]);
    const at = (retries[0] as { at: number }).at;
    expect(at).toBeLessThanOrEqual(cut);
    expect(cdnGets(WEIGHTS).map((r) => r.range)).toEqual([undefined, at > 0 ? `bytes=${at}-` : undefined]);
    await sameBytes((await listInstalledModels(dataDir))[0].dir, modelFiles);
  });

  it('leaves an interrupted pull resumable and uninstalled; the next pull continues where it stopped', async () => {
    const cut = 250_000;
    hub.dropAfter(WEIGHTS, [cut]);
    await expect(pull({ retries: 0 })).rejects.toMatchObject({ code: 'hub_unreachable', message: expect.stringMatching(/run the same pull again: it resumes from byte \d+$/) });
    expect(await listInstalledModels(dataDir)).toEqual([]);
    const [partial] = await listPartialDownloads(dataDir);
    expect(partial.source).toMatchObject({ repo: 'owner/tiny-sd' });
    const kept = (await stat(join(partial.dir, `${WEIGHTS}.incomplete`))).size;
    expect(kept).toBeLessThanOrEqual(cut);

    hub.requests.length = 0;
    const second = pull();
    await second;
    // Only the interrupted file is fetched again, and only from where its partial file ends.
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/')).map((r) => [r.path.slice(-64), r.range])).toEqual([[lfsSha(WEIGHTS), kept > 0 ? `bytes=${kept}-` : undefined]]);
    expect(second.events.find((e) => e.type === 'file')).toMatchObject({ path: WEIGHTS, from: kept });
    await sameBytes((await listInstalledModels(dataDir))[0].dir, modelFiles);
    expect(await listPartialDownloads(dataDir)).toEqual([]);
  });

  it('catches a corrupted file by its hash, deletes it and installs nothing', async () => {
    hub.corrupt(WEIGHTS);
    try {
      await expect(pull()).rejects.toMatchObject({ code: 'hash_mismatch', message: expect.stringContaining(`${WEIGHTS} from owner/tiny-sd@`) });
    } finally {
      hub.corrupt(WEIGHTS, false);
    }
    expect(await listInstalledModels(dataDir)).toEqual([]);
    const [partial] = await listPartialDownloads(dataDir);
    await expect(stat(join(partial.dir, `${WEIGHTS}.incomplete`))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(partial.dir, WEIGHTS))).rejects.toMatchObject({ code: 'ENOENT' });
    // The next pull fetches it whole again and succeeds.
    await pull();
    await sameBytes((await listInstalledModels(dataDir))[0].dir, modelFiles);
  });

  it('says a repository or revision does not exist (401 anonymous, 404 with a token)', async () => {
    await expect(pull({ spec: 'owner/nothing' })).rejects.toMatchObject({ code: 'hub_repo_not_found', message: expect.stringMatching(/no repository owner\/nothing on .*or it is private \(401, RepoNotFound\).*HF_TOKEN/) });
    await expect(pull({ spec: 'owner/nothing', hub: hubFromEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_other' }) })).rejects.toMatchObject({
      code: 'hub_repo_not_found',
      message: expect.stringContaining('(404, RepoNotFound)'),
    });
    await expect(pull({ spec: 'owner/tiny-sd@v9' })).rejects.toMatchObject({ code: 'hub_revision_not_found', message: expect.stringContaining('no revision "v9"') });
    expect(hub.requests.filter((r) => r.path.includes('/resolve/'))).toEqual([]);
  });

  it('says a gated repository needs a token (401), or access for the token given (403)', async () => {
    await expect(pull({ spec: 'owner/gated-sd' })).rejects.toMatchObject({ code: 'hub_unauthorized', message: expect.stringMatching(/owner\/gated-sd is gated \(401, GatedRepo\).*set HF_TOKEN/) });
    await expect(pull({ spec: 'owner/gated-sd', hub: hubFromEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_other' }) })).rejects.toMatchObject({
      code: 'hub_forbidden',
      message: expect.stringContaining('(403, GatedRepo)'),
    });
    await expect(pull({ hub: hubFromEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_unknown' }) })).rejects.toMatchObject({ code: 'hub_unauthorized', message: expect.stringContaining('refused HF_TOKEN') });
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/'))).toEqual([]);
    expect(await listInstalledModels(dataDir)).toEqual([]);
    // Refused before its first byte: nothing is left to resume.
    expect(await listPartialDownloads(dataDir)).toEqual([]);
  });

  it('checks free space first: a full disk downloads nothing', async () => {
    const free = 100_000;
    await expect(pull({ freeSpace: async () => free })).rejects.toMatchObject({ code: 'disk_full', message: expect.stringMatching(/needs 1\.\d MB more .* 100\.0 KB free.*nothing was downloaded/) });
    expect(hub.requests.filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'))).toEqual([]);
    expect(await listInstalledModels(dataDir)).toEqual([]);
    expect(await listPartialDownloads(dataDir)).toEqual([]);
  });

  it('names what is missing when a repository is not an ONNX export, and where one is', async () => {
    await expect(pull({ spec: 'owner/pytorch-only' })).rejects.toMatchObject({
      code: 'not_an_onnx_export',
      message: expect.stringMatching(/model_index\.json, scheduler\/scheduler_config\.json, unet\/model\.onnx.* missing; it has no ONNX files, only other weights \(unet\/diffusion_pytorch_model\.safetensors/),
    });
    await expect(pull({ spec: 'owner/in-folder' })).rejects.toMatchObject({ code: 'not_an_onnx_export', message: expect.stringContaining('pull with --subfolder onnx') });
    const result = await pull({ spec: 'owner/in-folder', subfolder: 'onnx' });
    expect(result.record.source.subfolder).toBe('onnx');
    await sameBytes(result.dir, modelFiles);
  });

  it('checks the download as the daemon will load it before installing: a graph without its weights is no model', async () => {
    await expect(pull({ spec: 'owner/no-weights' })).rejects.toMatchObject({
      code: 'not_an_onnx_export',
      message: expect.stringMatching(/^owner\/no-weights@[0-9a-f]{12} is not a model Styleset can load|unet\/model\.onnx keeps weights in "model\.onnx_data", which is not among the files downloaded/),
    });
    expect(await listInstalledModels(dataDir)).toEqual([]);
  });

  it('refuses to replace a model of the same id from elsewhere unless told to', async () => {
    await pull();
    await expect(pull({ spec: 'owner/in-folder', subfolder: 'onnx' })).rejects.toMatchObject({ message: expect.stringContaining('a model "tiny" is installed already, from owner/tiny-sd@') });
    await pull({ spec: 'owner/in-folder', subfolder: 'onnx', replace: true });
    expect((await listInstalledModels(dataDir)).map((m) => [m.id, m.record.source.repo])).toEqual([['tiny', 'owner/in-folder']]);
    expect((await readdir(join(dataDir, 'models'))).filter((name) => name.startsWith('.trash'))).toEqual([]);
  });

  it('says when the hub cannot be reached', async () => {
    const port = await closedPort();
    await expect(pull({ hub: hubFromEnv({ HF_ENDPOINT: `http://127.0.0.1:${port}` }) })).rejects.toMatchObject({
      code: 'hub_unreachable',
      message: expect.stringContaining(`cannot reach http://127.0.0.1:${port} (ECONNREFUSED)`),
    });
  });
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
