import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSharedUnet, sharingFeeds } from '../packages/daemon/src/attention';
import { OnnxModel } from '../packages/daemon/src/model/onnx-session';
import { elementCount, isExternal, readModel } from '../packages/daemon/src/onnx';
import { relativeError, unetInputs } from './support/reference/tiny-unet';
import { generateTinyModel, type TinyModel } from './support/tiny-models';

const runtime = { provider: 'cpu' as const, threads: 1 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shared-unet-cache-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fresh(name: string, weights: 'inline' | 'external'): Promise<{ model: TinyModel; source: string; cache: string }> {
  const model = await generateTinyModel(join(root, name), { family: 'sd1', weights });
  return { model, source: join(model.dir, 'unet', 'model.onnx'), cache: join(root, `${name}-cache`) };
}

/** The rewritten model with sharing off must still compute the original. */
async function expectOriginalOutput(model: TinyModel, source: string, prepared: { path: string; layerCount: number; groupNormCount: number }) {
  const original = await OnnxModel.load(source, runtime);
  const shared = await OnnxModel.load(prepared.path, runtime);
  try {
    const inputs = unetInputs(model, [1, 2]);
    const expected = (await original.run(inputs, ['out_sample'])).out_sample;
    const off = (await shared.run({ ...inputs, ...sharingFeeds(null, prepared, { images: 2, guided: false }) }, ['out_sample'])).out_sample;
    expect(relativeError(off.data, expected.data)).toBeLessThan(1e-6);
  } finally {
    await original.release();
    await shared.release();
  }
}

/** Bytes this process has read through read-like system calls (page cache and sparse holes included). */
function bytesRead(): number {
  return Number(/rchar:\s*(\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

describe('prepareSharedUnet', () => {
  it('rewrites an external-data model without reading its weights, linking them into the cache', async () => {
    const { model, source, cache } = await fresh('external', 'external');
    const data = join(dirname(source), 'model.onnx_data');
    // A 1 GiB data file (sparse: the weights, then a hole): reading it, whole or tensor by tensor,
    // would show in this process's read count; ONNX Runtime only reads the ranges tensors name.
    await truncate(data, 2 ** 30);
    const sourceFiles = await readdir(dirname(source));
    const before = bytesRead();
    const prepared = await prepareSharedUnet(source, cache);
    expect(bytesRead() - before).toBeLessThan(16 * 2 ** 20);
    expect(prepared.layerCount).toBe(4);
    expect(prepared.groupNormCount).toBeGreaterThan(0);
    expect(dirname(dirname(prepared.path))).toBe(cache);
    // The weights are the original file, linked: same inode, nothing copied, the source untouched.
    const [linked, original] = await Promise.all([stat(join(dirname(prepared.path), 'model.onnx_data')), stat(data)]);
    expect(linked.ino).toBe(original.ino);
    expect(await readdir(dirname(source))).toEqual(sourceFiles);
    await expectOriginalOutput(model, source, prepared);
  });

  it('moves an inline-weight model\'s weights to a data file in the cache', async () => {
    const { model, source, cache } = await fresh('inline', 'inline');
    const prepared = await prepareSharedUnet(source, cache);
    const files = await readdir(dirname(prepared.path));
    expect(files.sort()).toEqual(['manifest.json', 'model.onnx', 'model.onnx.styleset_data']);
    const large = (await readModel(prepared.path)).graph!.initializer.filter((tensor) => elementCount(tensor.dims) * 4 >= 1024);
    expect(large.length).toBeGreaterThan(0);
    expect(large.every(isExternal)).toBe(true);
    await expectOriginalOutput(model, source, prepared);
  });

  it('hits on the second call, and rewrites when the model, its data or the entry changed', async () => {
    const { source, cache } = await fresh('hits', 'external');
    const first = await prepareSharedUnet(source, cache);
    const written = (await stat(first.path)).mtimeMs;

    const second = await prepareSharedUnet(source, cache);
    expect(second).toEqual(first);
    expect((await stat(second.path)).mtimeMs).toBe(written);

    // A changed data file (same model.onnx): the same entry, rebuilt.
    const data = join(dirname(source), 'model.onnx_data');
    await utimes(data, new Date(), new Date(Date.now() + 5000));
    const rebuilt = await prepareSharedUnet(source, cache);
    expect(rebuilt.path).toBe(first.path);
    const manifest = JSON.parse(await readFile(join(dirname(rebuilt.path), 'manifest.json'), 'utf8'));
    expect(manifest.sourceData['model.onnx_data'].mtimeMs).toBe((await stat(data)).mtimeMs);

    // A data file replaced by another with the same size and times (cp -p): a new inode, rebuilt again.
    const replaced = await stat(data);
    await copyFile(data, `${data}.new`);
    await rename(`${data}.new`, data);
    await utimes(data, replaced.atime, replaced.mtime);
    await prepareSharedUnet(source, cache);
    const relinked = JSON.parse(await readFile(join(dirname(first.path), 'manifest.json'), 'utf8'));
    expect(relinked.sourceData['model.onnx_data'].ino).toBe((await stat(data)).ino);
    expect(relinked.sourceData['model.onnx_data'].ino).not.toBe(replaced.ino);

    // A changed model.onnx: a new entry, and the outdated one is gone.
    await utimes(source, new Date(), new Date(Date.now() + 10_000));
    const moved = await prepareSharedUnet(source, cache);
    expect(moved.path).not.toBe(first.path);
    expect(existsSync(dirname(first.path))).toBe(false);
    expect(await readdir(cache)).toEqual([dirname(moved.path).split('/').pop()]);
  });

  it('never uses a damaged or partial entry', async () => {
    const { model, source, cache } = await fresh('damaged', 'external');
    const prepared = await prepareSharedUnet(source, cache);
    const entry = dirname(prepared.path);
    const size = (await stat(prepared.path)).size;

    await truncate(prepared.path, size - 100);
    expect(await prepareSharedUnet(source, cache)).toEqual(prepared);
    expect((await stat(prepared.path)).size).toBe(size);

    const bytes = await readFile(prepared.path);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(prepared.path, bytes);
    await prepareSharedUnet(source, cache);
    expect(await readFile(prepared.path)).not.toEqual(bytes);

    // A crash before the manifest: an entry without one, and a left-over temporary folder.
    await rm(join(entry, 'manifest.json'));
    const leftover = join(cache, '.tmp-crashed');
    await mkdir(leftover);
    await utimes(leftover, new Date(0), new Date(0));
    await prepareSharedUnet(source, cache);
    expect(existsSync(join(entry, 'manifest.json'))).toBe(true);
    expect(existsSync(leftover)).toBe(false);
    await expectOriginalOutput(model, source, prepared);
  });
});
