import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelUnetSha256, unetSha256 } from '../packages/daemon/src/styles';
import { tinyModelSet } from './support/tiny-model-set';

let set: Awaited<ReturnType<typeof tinyModelSet<'external' | 'inline'>>>;
let dataDir: string;

beforeAll(async () => {
  set = await tinyModelSet({ external: { family: 'sd1', weights: 'external' }, inline: { family: 'sd1' } });
  dataDir = await mkdtemp(join(tmpdir(), 'styleset-unet-hash-'));
});

afterAll(async () => {
  await set.dispose();
  await rm(dataDir, { recursive: true, force: true });
});

/** The README's definition, computed here from the files alone: one line per file, model.onnx first. */
async function expected(unetDir: string, names: string[]): Promise<string> {
  const lines: string[] = [];
  for (const name of names) {
    const bytes = await readFile(join(unetDir, name));
    lines.push(`${name} ${bytes.length} ${createHash('sha256').update(bytes).digest('hex')}\n`);
  }
  return createHash('sha256').update(lines.join('')).digest('hex');
}

describe("a U-Net's hash", () => {
  it('covers model.onnx and the weights file it names, as the README defines it', async () => {
    const unet = join(set.models.external.dir, 'unet');
    expect((await readdir(unet)).sort()).toEqual(['config.json', 'model.onnx', 'model.onnx_data']);
    const hash = await unetSha256(dataDir, join(unet, 'model.onnx'));
    expect(hash).toEqual({ sha256: await expected(unet, ['model.onnx', 'model.onnx_data']), cached: false });
    const inline = await modelUnetSha256(dataDir, set.models.inline.dir);
    expect(inline.sha256).toBe(await expected(join(set.models.inline.dir, 'unet'), ['model.onnx']));
    expect(inline.sha256).not.toBe(hash.sha256);
  });

  it('is kept by the files\' stamps, and read again when a file changed even with its size and mtime put back', async () => {
    const unet = join(set.models.external.dir, 'unet');
    const weights = join(unet, 'model.onnx_data');
    // A whole second, which utimes sets back exactly.
    await utimes(weights, 1_700_000_000, 1_700_000_000);
    const first = await unetSha256(dataDir, join(unet, 'model.onnx'));
    expect(first.cached).toBe(false);
    expect(await unetSha256(dataDir, join(unet, 'model.onnx'))).toEqual({ sha256: first.sha256, cached: true });

    // Other weights of the same size, the file's mtime set back as `cp -p` or `rsync -t` would.
    const before = await stat(weights);
    const bytes = await readFile(weights);
    bytes[bytes.length - 1] ^= 0xff;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(weights, bytes);
    await utimes(weights, 1_700_000_000, 1_700_000_000);
    const after = await stat(weights);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);

    const changed = await unetSha256(dataDir, join(unet, 'model.onnx'));
    expect(changed.cached).toBe(false);
    expect(changed.sha256).not.toBe(first.sha256);
    expect(changed.sha256).toBe(await expected(unet, ['model.onnx', 'model.onnx_data']));
    expect(await unetSha256(dataDir, join(unet, 'model.onnx'))).toEqual({ sha256: changed.sha256, cached: true });
  });
});
