/**
 * The style library end to end through the built CLI, each command its own process, on the
 * embedded model (what a fresh clone has): a style saved from a set gives a new image the PNG it
 * had in that set, byte for byte, here and after export and import into an empty data folder;
 * an image style keeps its inversion and carries it in its file.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng } from '../packages/daemon/src/image/png';
import { DEFAULT_DECODE_LIMITS } from '../packages/daemon/src/image/image8';
import { readModelLayout } from '../packages/daemon/src/model/layout';
import { defaultModelDir } from '../packages/daemon/src/model/default-model';

const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'bin', 'styleset.js');

let root: string;
const prompts = ['a star icon', 'a heart icon', 'a moon icon', 'a sun icon', 'a cloud icon', 'a bolt icon'];

async function styleset(dataDir: string, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { env: { ...process.env, STYLESET_DATA_DIR: dataDir } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

async function ok(dataDir: string, ...args: string[]): Promise<string> {
  const result = await styleset(dataDir, ...args);
  expect(result.stderr, args.join(' ')).toBe('');
  expect(result.code, args.join(' ')).toBe(0);
  return result.stdout;
}

/** The set.json `generate --json` prints, as far as this test reads it. */
interface SetRecord {
  style?: string;
  firstIndex?: number;
  options: { seed: number; batchSize: number };
  images: { index: number; setIndex?: number; seed: number; prompt: string; file: string }[];
}

const bytes = (file: string) => readFile(file);
const same = async (a: string, b: string) => Buffer.compare(await bytes(a), await bytes(b)) === 0;

async function zipEntries(file: string): Promise<string[]> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) names.push(entry.fileName);
  } finally {
    zip.close();
  }
  return names.sort();
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-style-cli-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('styleset style, from a set', () => {
  let data: string;
  let set: SetRecord;

  beforeAll(async () => {
    data = join(root, 'data');
    // Six images in batches of three: the reference leads each batch, so images 1..5 run as
    // [0 1 2] [0 3 4] [0 5 filler]; a continuation must put each image back where it was.
    set = JSON.parse(await ok(data, 'generate', '--steps', '4', '--seed', '7', '--batch-size', '3', '--out', join(root, 'set'), '--json', ...prompts));
    expect(set.options.batchSize).toBe(3);
    expect(set.images.map((image) => image.seed)).toEqual([7, 8, 9, 10, 11, 12]);
  });

  it('saves the set\'s reference and shows it', async () => {
    expect(await ok(data, 'style', 'save', 'brand', '--from', join(root, 'set', 'set.json'))).toMatch(/saved style brand/);
    const shown = JSON.parse(await ok(data, 'style', 'show', 'brand', '--json'));
    expect(shown).toMatchObject({ name: 'brand', kind: 'set', prompt: prompts[0], seed: 7, nextIndex: 6, model: { id: 'default' }, options: { steps: 4, batchSize: 3 } });
    expect(shown.model.unetSha256).toMatch(/^[0-9a-f]{64}$/);
    // The thumbnail is the set's first image (re-encoded as 8-bit RGB: the same pixels).
    const thumb = decodePng(await readFile(shown.thumbnail), 'thumbnail', DEFAULT_DECODE_LIMITS);
    const first = decodePng(await readFile(set.images[0].file), 'first', DEFAULT_DECODE_LIMITS);
    expect([thumb.width, thumb.height, thumb.channels]).toEqual([first.width, first.height, 3]);
    expect(Buffer.compare(Buffer.from(thumb.data), Buffer.from(first.data.filter((_, i) => first.channels === 3 || i % 4 !== 3)))).toBe(0);
    const listed = JSON.parse(await ok(data, 'style', 'list', '--json'));
    expect(listed.styles.map((s: { name: string }) => s.name)).toEqual(['brand']);
    // A taken name is refused unless replaced.
    const again = await styleset(data, 'style', 'save', 'brand', '--from', join(root, 'set', 'set.json'));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/brand/);
  });

  it('gives an image added later, in a new process, the PNG it had in the set', async () => {
    // Image 5 ran in the last batch beside a filler row; image 3 first in the middle batch.
    const later = JSON.parse(await ok(data, 'generate', '--style', 'brand', '--first-index', '5', '--out', join(root, 'later5'), '--json', prompts[5])) as SetRecord;
    expect(later).toMatchObject({ style: 'brand', firstIndex: 5 });
    expect(later.images.map((image) => [image.setIndex, image.seed])).toEqual([[5, 12]]);
    expect(later.images[0].file).toBe(join(root, 'later5', '06-a-bolt-icon.png'));
    expect(await same(later.images[0].file, set.images[5].file)).toBe(true);

    const middle = JSON.parse(await ok(data, 'generate', '--style', 'brand', '--first-index', '3', '--out', join(root, 'later3'), '--json', prompts[3], prompts[4])) as SetRecord;
    expect(await same(middle.images[0].file, set.images[3].file)).toBe(true);
    expect(await same(middle.images[1].file, set.images[4].file)).toBe(true);

    // The control: the same prompt at another index (another seed and place) is another image.
    const moved = JSON.parse(await ok(data, 'generate', '--style', 'brand', '--first-index', '4', '--out', join(root, 'moved'), '--json', prompts[5])) as SetRecord;
    expect(await same(moved.images[0].file, set.images[5].file)).toBe(false);
  }, 240_000);

  it('continues after the set by default', async () => {
    const more = JSON.parse(await ok(data, 'generate', '--style', 'brand', '--out', join(root, 'more'), '--json', 'a leaf icon')) as SetRecord;
    expect(more.images.map((image) => [image.setIndex, image.seed, image.prompt])).toEqual([[6, 13, 'a leaf icon']]);
    expect((await readdir(join(root, 'more'))).sort()).toEqual(['07-a-leaf-icon.png', 'set.json']);
  });

  it('exports one file that imports into an empty data folder and gives the same pixels', async () => {
    const file = join(root, 'brand.styleset.zip');
    expect(await ok(data, 'style', 'export', 'brand', '-o', file)).toMatch(/wrote/);
    expect(await zipEntries(file)).toEqual(['reference.png', 'style.json']);

    const empty = join(root, 'empty-data');
    const imported = JSON.parse(await ok(empty, 'style', 'import', file, '--as', 'team', '--json'));
    expect(imported).toMatchObject({ name: 'team', kind: 'set', seed: 7, nextIndex: 6 });
    const later = JSON.parse(await ok(empty, 'generate', '--style', 'team', '--first-index', '5', '--out', join(root, 'imported5'), '--json', prompts[5])) as SetRecord;
    expect(await same(later.images[0].file, set.images[5].file)).toBe(true);
  }, 120_000);

  it('deletes a style, and then a job in it names what is missing', async () => {
    expect(await ok(data, 'style', 'rm', 'brand')).toMatch(/deleted style brand/);
    const gone = await styleset(data, 'generate', '--style', 'brand', '--out', join(root, 'gone'), 'a leaf icon');
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/brand/);
    expect(JSON.parse(await ok(data, 'style', 'list', '--json')).styles).toEqual([]);
  });
});

describe('styleset style, from an image', () => {
  it('inverts the image once, keeps the trajectory, and carries it in the exported file', async () => {
    const data = join(root, 'image-data');
    const seedSet = JSON.parse(await ok(data, 'generate', '--steps', '4', '--seed', '3', '--no-share', '--out', join(root, 'seed-set'), '--json', 'a round badge')) as SetRecord;
    const image = join(root, 'badge.png');
    await copyFile(seedSet.images[0].file, image);
    await ok(data, 'style', 'save', 'badge', '--image', image, '--prompt', 'a round badge', '--steps', '4', '--inversion-offset', '1');
    expect(JSON.parse(await ok(data, 'style', 'show', 'badge', '--json')).trajectories).toEqual([]);

    const first = JSON.parse(await ok(data, 'generate', '--style', 'badge', '--seed', '5', '--out', join(root, 'badge1'), '--json', 'a square badge')) as SetRecord;
    const kept = JSON.parse(await ok(data, 'style', 'show', 'badge', '--json')).trajectories;
    expect(kept).toHaveLength(1);
    // At the embedded model's native size, the default of `generate`.
    const { nativeWidth, nativeHeight } = await readModelLayout(defaultModelDir());
    expect(kept[0]).toMatchObject({ steps: 4, width: nativeWidth, height: nativeHeight });
    // From the kept trajectory, the same image as from the inversion.
    const second = JSON.parse(await ok(data, 'generate', '--style', 'badge', '--seed', '5', '--out', join(root, 'badge2'), '--json', 'a square badge')) as SetRecord;
    expect(await same(first.images[0].file, second.images[0].file)).toBe(true);

    const file = join(root, 'badge.styleset.zip');
    await ok(data, 'style', 'export', 'badge', '-o', file);
    expect(await zipEntries(file)).toEqual(['reference.png', 'style.json', kept[0].file].sort());
    const empty = join(root, 'image-empty');
    await ok(empty, 'style', 'import', file);
    const third = JSON.parse(await ok(empty, 'generate', '--style', 'badge', '--seed', '5', '--out', join(root, 'badge3'), '--json', 'a square badge')) as SetRecord;
    expect(await same(first.images[0].file, third.images[0].file)).toBe(true);
  }, 240_000);
});
