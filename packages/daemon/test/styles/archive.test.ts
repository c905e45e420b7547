import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STYLE_ALIGNED_DEFAULTS, VECTOR_DEFAULTS, REFERENCE_IMAGE_DEFAULTS } from '@styleset/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StylesetError } from '../../src/errors';
import { formatNpy } from '../../src/image/npy';
import { encodePng } from '../../src/image/png';
import {
  ARCHIVE_LIMITS,
  exportStyle,
  importStyle,
  newStyle,
  StyleStore,
  trajectoryFile,
  type LocalModel,
  type StoredStyle,
  type TrajectoryParams,
} from '../../src/styles';
import { zipBytes, type ZipEntry } from './zip-bytes';

const HASH = 'a1'.repeat(32);
const OTHER = 'b2'.repeat(32);
const here: LocalModel = { id: 'default', unetSha256: HASH, width: 64, height: 64 };

let root: string;
let source: StyleStore;
let style: StoredStyle;
/** The good style's files, as an export holds them. */
let files: { manifest: string; reference: Uint8Array; trajectory: Uint8Array; trajectoryName: string };
let target: StyleStore;
let n = 0;

function png(width: number, height: number, seed: number): Uint8Array {
  const data = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 31 + seed * 7) % 256);
  return new Uint8Array(encodePng({ width, height, channels: 3, data }));
}

const params: TrajectoryParams = { unetSha256: HASH, steps: 4, width: 64, height: 64, inversionGuidance: 2 };

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-archive-'));
  source = new StyleStore(join(root, 'source'));
  const options = { ...STYLE_ALIGNED_DEFAULTS, ...VECTOR_DEFAULTS, scheduler: 'ddim', steps: 4, guidance: 7.5, width: 64, height: 64, inversionGuidance: 2, inversionOffset: 1, batchSize: 4 } as const;
  const made = newStyle({ name: 'brand', kind: 'image', prompt: 'a star icon', options, model: { id: 'default', unetSha256: HASH }, nextIndex: 0, image: png(64, 64, 1) });
  await source.create(made.manifest, made.png);
  const trajectory = { data: Float32Array.from({ length: 5 * 4 * 8 * 8 }, (_, i) => Math.sin(i)), dims: [5, 4, 8, 8] };
  await source.addTrajectory('brand', made.manifest.createdAt, params, trajectory);
  style = await source.get('brand');
  files = {
    manifest: await readFile(join(style.dir, 'style.json'), 'utf8'),
    reference: await readFile(join(style.dir, 'reference.png')),
    trajectory: formatNpy(trajectory),
    trajectoryName: trajectoryFile(params),
  };
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  target = new StyleStore(join(root, `target-${++n}`));
});

/** The good archive's entries, changed by `edit`. */
function entries(edit: (list: ZipEntry[]) => ZipEntry[] = (list) => list, manifest: (m: Record<string, unknown>) => unknown = (m) => m): ZipEntry[] {
  return edit([
    { name: 'style.json', data: Buffer.from(JSON.stringify(manifest(JSON.parse(files.manifest)))) },
    { name: 'reference.png', data: files.reference },
    { name: files.trajectoryName, data: files.trajectory },
  ]);
}

async function archive(list: ZipEntry[]): Promise<string> {
  const file = join(root, `archive-${++n}.zip`);
  await writeFile(file, zipBytes(list));
  return file;
}

async function importInto(file: string, options: { reinvertOn?: LocalModel; as?: string; models?: LocalModel[] } = {}) {
  const models = options.models ?? [here];
  return importStyle(target, file, { as: options.as, reinvertOn: options.reinvertOn, localModel: async (id) => models.find((m) => m.id === id) });
}

/** Refused with this code and a message matching `pattern`, leaving no style and no staging folder behind. */
async function refused(file: string, pattern: RegExp, code = 'invalid_input', options?: Parameters<typeof importInto>[1]): Promise<void> {
  const error = await importInto(file, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StylesetError);
  expect((error as StylesetError).message).toMatch(pattern);
  expect((error as StylesetError).code).toBe(code);
  expect((error as StylesetError).message.startsWith(file)).toBe(true);
  expect(await readdir(target.dir).catch(() => [])).toEqual([]);
  expect(await target.list()).toEqual([]);
}

describe('a style file', () => {
  it('exported and imported elsewhere is the same style, file for file', async () => {
    const out = join(root, 'brand.styleset-style.zip');
    await exportStyle(source, style, out);
    const { style: imported, warnings } = await importInto(out);
    expect(warnings).toEqual([]);
    expect(imported.manifest).toEqual(style.manifest);
    for (const name of ['style.json', 'reference.png', files.trajectoryName]) {
      expect(Buffer.compare(await readFile(join(imported.dir, name)), await readFile(join(style.dir, name)))).toBe(0);
    }
    expect(await target.trajectory(imported, params)).toEqual(await source.trajectory(style, params));
    // Exporting again gives the same bytes (entries carry the style's time, not the clock's).
    const again = join(root, 'again.zip');
    await exportStyle(source, style, again);
    expect(Buffer.compare(await readFile(again), await readFile(out))).toBe(0);
  });

  it('is imported under another name with --as, and refuses a name that is taken', async () => {
    const file = await archive(entries());
    expect((await importInto(file, { as: 'brand-2' })).style.manifest.name).toBe('brand-2');
    expect((await importInto(file)).style.manifest.name).toBe('brand');
    const taken = await importInto(file).catch((e: StylesetError) => e);
    expect((taken as StylesetError).code).toBe('style_exists');
    expect((await target.list()).map((s) => s.manifest.name)).toEqual(['brand', 'brand-2']);
    expect((await readdir(target.dir)).sort()).toEqual(['brand', 'brand-2']);
  });

  it('of an unknown format version is refused, naming the version', async () => {
    await refused(await archive(entries(undefined, (m) => ({ ...m, version: 2 }))), /style format version 2 is not one this Styleset reads \(it reads version 1\)/);
  });

  it('without a manifest, or with an entry missing, is refused naming it', async () => {
    await refused(await archive(entries((list) => list.slice(1))), /has no style\.json: it is not a style file/);
    await refused(await archive(entries((list) => list.filter((e) => e.name !== 'reference.png'))), /reference\.png is listed in style\.json but missing from the archive/);
    await refused(await archive(entries((list) => list.slice(0, 2))), new RegExp(`${files.trajectoryName} is listed in style\\.json but missing`));
  });

  it('with an entry its manifest does not list is refused naming it', async () => {
    await refused(await archive(entries((list) => [...list, { name: 'notes.txt', data: Buffer.from('hi') }])), /notes\.txt is not a file of a style/);
    await refused(await archive(entries((list) => [...list, { name: 'trajectories/0123456789abcdef0123456789abcdef.npy', data: files.trajectory }])), /trajectories\/0123456789abcdef0123456789abcdef\.npy is not a file of a style/);
  });

  it.each(['../reference.png', '/etc/styleset.json', 'trajectories/../../x.npy', 'trajectories\\..\\x.npy', 'C:/x.png'])('with an entry named %j (zip slip) is refused before anything is unpacked', async (name) => {
    const file = await archive(entries((list) => [...list, { name, data: Buffer.from('x') }]));
    await refused(file, /points outside the style's folder/);
    expect(await readdir(root)).not.toContain('x.npy');
  });

  it('with a link, a duplicate or an encrypted entry is refused', async () => {
    await refused(await archive(entries((list) => [...list.slice(0, 2), { name: files.trajectoryName, data: Buffer.from('/etc/passwd'), mode: 0o120777 }])), /is not a plain file \(a symbolic link/);
    await refused(await archive(entries((list) => [...list, list[1]])), /"reference\.png" is in the archive twice/);
    await refused(await archive(entries((list) => [list[0], { ...list[1], flags: 1 }, list[2]])), /"reference\.png" is encrypted/);
  });

  it('with an entry declared over its limit is refused from the directory alone', async () => {
    const big = ARCHIVE_LIMITS.referenceBytes + 1;
    await refused(await archive(entries((list) => [list[0], { ...list[1], declaredSize: big }, list[2]])), new RegExp(`"reference\\.png" is ${big} bytes unpacked, over the ${ARCHIVE_LIMITS.referenceBytes}`));
    await refused(await archive(entries((list) => [{ ...list[0], declaredSize: ARCHIVE_LIMITS.manifestBytes + 1 }, ...list.slice(1)])), /"style\.json" is \d+ bytes unpacked, over the \d+ a style's manifest may have/);
  });

  it('with an entry that inflates past what it declares (a zip bomb) is refused', async () => {
    // 64 MiB of zeros deflate to 64 KiB; the headers say 100 bytes.
    const bomb = { name: files.trajectoryName, data: new Uint8Array(64 * 1024 * 1024), declaredSize: 100 };
    await refused(await archive(entries((list) => [list[0], list[1], bomb])), /inflates to another size than the 100 bytes it declares .*zip bomb/);
  });

  it('whose files are not those its manifest lists is refused', async () => {
    const other = png(64, 64, 2);
    await refused(await archive(entries((list) => [list[0], { ...list[1], data: other }, list[2]])), /reference\.png is \d+ bytes; style\.json lists \d+|reference\.png is not the file style\.json lists: its SHA-256/);
  });

  it('whose reference is not an image, a JPEG or of another size is refused', async () => {
    const withReference = async (bytes: Uint8Array, width = 64) => {
      const sha256 = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
      return archive(
        entries(
          (list) => [list[0], { ...list[1], data: bytes }, list[2]],
          (m) => ({ ...m, reference: { ...(m.reference as object), bytes: bytes.length, sha256, width } }),
        ),
      );
    };
    await refused(await withReference(Buffer.from('not an image at all')), /reference\.png is not a usable image: not a PNG or JPEG image/);
    await refused(await withReference(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3])), /reference\.png is a JPEG, not a PNG/);
    const cut = files.reference.subarray(0, files.reference.length - 40);
    await refused(await withReference(cut), /reference\.png is not a usable image/);
    await refused(await withReference(files.reference, 32), /reference\.png is 64x64; style\.json says 32x64/);
  });

  it('whose trajectory is not of its listed shape is refused', async () => {
    const wrong = formatNpy({ data: new Float32Array(3 * 4 * 8 * 8), dims: [3, 4, 8, 8] });
    const sha256 = (await import('node:crypto')).createHash('sha256').update(wrong).digest('hex');
    const file = await archive(
      entries(
        (list) => [list[0], list[1], { ...list[2], data: wrong }],
        (m) => ({ ...m, trajectories: (m.trajectories as object[]).map((t) => ({ ...t, bytes: wrong.length, sha256 })) }),
      ),
    );
    await refused(file, /has shape \[3, 4, 8, 8\]; a trajectory of 4 steps at 64x64 is \[5, C, h, w\]/);
  });

  it('of a model whose U-Net here is another is refused, or bound to the model here with --reinvert', async () => {
    const file = await archive(entries());
    const changed = { ...here, unetSha256: OTHER };
    await refused(file, /belongs to model default with U-Net a1a1a1a1a1a1…, but the model default here has U-Net b2b2b2b2b2b2…: other weights; import with --reinvert/, 'model_mismatch', { models: [changed] });
    await refused(file, /belongs to model "default" \(U-Net a1a1a1a1a1a1…\), which is not here/, 'model_not_found', { models: [] });

    const sdxl = { id: 'sdxl', unetSha256: OTHER, width: 1024, height: 1024 };
    const { style: rebound, warnings } = await importInto(file, { models: [changed], reinvertOn: sdxl });
    expect(warnings).toEqual([expect.stringMatching(/made on model default \(U-Net a1a1a1a1a1a1…\); it is now bound to sdxl \(U-Net b2b2b2b2b2b2…\).*images will differ/)]);
    expect(rebound.manifest.model).toEqual({ id: 'sdxl', unetSha256: OTHER });
    expect(rebound.manifest).toMatchObject({ kind: 'image', trajectories: [], nextIndex: 0, options: { width: 1024, height: 1024, scheduler: 'ddim', steps: REFERENCE_IMAGE_DEFAULTS.steps, guidance: REFERENCE_IMAGE_DEFAULTS.guidance } });
    // The old model's trajectory did not come along.
    expect(await readdir(rebound.dir)).toEqual(['reference.png', 'style.json']);

    // A model whose folder recommends a reference-image guidance gets that one.
    const guided = { ...sdxl, id: 'guided', referenceGuidance: 4 };
    const { style: reguided } = await importInto(file, { models: [changed], reinvertOn: guided, as: 'reguided' });
    expect(reguided.manifest.options).toMatchObject({ guidance: 4, steps: REFERENCE_IMAGE_DEFAULTS.steps });
  });

  it('that is not a zip at all is refused as such', async () => {
    const file = join(root, 'not-a-zip.zip');
    await writeFile(file, 'hello');
    await refused(file, /not a zip archive, as a style file is/);
  });
});
