import { createHash } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { LIMITS, REFERENCE_IMAGE_DEFAULTS, referenceSampling, styleNameSchema } from '@styleset/protocol';
import * as yauzl from 'yauzl';
import * as yazl from 'yazl';
import { InputError, StylesetError } from '../errors';
import { decodeImage } from '../image/decode';
import { parseNpy } from '../image/npy';
import { sniffImageFormat } from '../image/sniff';
import { makeFolder, nodeFileSystem, writeFileAtomic } from '../storage';
import { MANIFEST_FILE, REFERENCE_FILE, parseManifest, sha256Hex, type StyleManifest } from './style-record';
import { manifestText, type StoredStyle, type StyleStore } from './style-store';

/**
 * Bounds on what an import reads, checked against each entry's declared size before anything is
 * inflated and again while it inflates (a zip bomb declares less than it holds). The largest real
 * trajectory: 200 steps of a 2048x2048 SDXL latent, 201 x 4 x 256 x 256 float32 = 211 MB.
 */
export const ARCHIVE_LIMITS = {
  manifestBytes: 256 * 1024,
  referenceBytes: 32 * 1024 * 1024,
  trajectoryBytes: 256 * 1024 * 1024,
  totalBytes: 1024 * 1024 * 1024,
  entries: 66,
} as const;

/** The archive's file for a style: `<name>.styleset-style.zip`. */
export const ARCHIVE_SUFFIX = '.styleset-style.zip';

/**
 * Writes a style as one zip: style.json, reference.png and its trajectories, under the same names
 * as in its folder (see the README's "Style files"). Entries carry the style's creation time, so
 * exporting a style twice gives the same bytes.
 */
export async function exportStyle(store: StyleStore, style: StoredStyle, outFile: string): Promise<{ file: string; bytes: number }> {
  const { manifest } = style;
  const zip = new yazl.ZipFile();
  const mtime = new Date(manifest.createdAt);
  const files = [MANIFEST_FILE, REFERENCE_FILE, ...manifest.trajectories.map((t) => t.file)];
  for (const name of files) {
    const bytes = name === REFERENCE_FILE ? await store.reference(style) : await readFile(join(style.dir, name));
    const listed = manifest.trajectories.find((t) => t.file === name);
    if (listed !== undefined && sha256Hex(bytes) !== listed.sha256) {
      throw new StylesetError('invalid_input', `style ${manifest.name}: ${join(style.dir, name)} is not the trajectory it listed (its SHA-256 differs); it was changed on disk`);
    }
    // The PNG is compressed already; the manifest and the float32 trajectories are not.
    zip.addBuffer(Buffer.from(bytes), name, { mtime, mode: 0o100644, compress: name !== REFERENCE_FILE });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as Readable) chunks.push(chunk as Buffer);
  const archive = Buffer.concat(chunks);
  const file = resolve(outFile);
  try {
    await makeFolder(nodeFileSystem, dirname(file));
    // Made to be shared: readable as any file the user writes.
    await writeFileAtomic(nodeFileSystem, file, archive, 0o644);
  } catch (cause) {
    throw new StylesetError('invalid_input', `cannot write ${file}: ${(cause as Error).message}`, { cause });
  }
  return { file, bytes: archive.length };
}

/** The model a style would run on here: its id and the SHA-256 of its U-Net (see unet-hash.ts). */
export interface LocalModel {
  id: string;
  unetSha256: string;
  width: number;
  height: number;
  /** The reference-image path's guidance its folder recommends, if it does (`ModelInfo.defaults`). */
  referenceGuidance?: number;
}

export interface ImportOptions {
  /** Another name for it; default the name in its manifest. */
  as?: string;
  replace?: boolean;
  /** The model of that id here, if there is one. */
  localModel(id: string): Promise<LocalModel | undefined>;
  /**
   * Bind the style to this model even though its U-Net is not the style's: the reference image is
   * inverted on it at first use (a style from a set becomes a style from its reference image).
   */
  reinvertOn?: LocalModel;
}

export interface ImportResult {
  style: StoredStyle;
  /** For the user: what changed on the way in (another model). */
  warnings: string[];
}

/**
 * Reads a style archive into the store, checking everything before the style appears: the format
 * version, exactly the entries its manifest lists (none missing, none extra, no name that leaves
 * the archive's folder, no link), each entry's size against its limit and its declared size and
 * its SHA-256 against the manifest, the reference is a PNG image of the size listed, each
 * trajectory a float32 .npy of its listed shape for the style's model, and the style's model is
 * the one here (the same U-Net), unless `reinvertOn` says otherwise. It is unpacked in a staging
 * folder and renamed into place at the end: a refused archive leaves nothing behind.
 */
export async function importStyle(store: StyleStore, archiveFile: string, options: ImportOptions): Promise<ImportResult> {
  const file = resolve(archiveFile);
  const fail = (problem: string, code = 'invalid_input'): never => {
    throw new StylesetError(code, `${file}: ${problem}`);
  };
  const size = await stat(file).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => fail(`cannot read the style file (${error.code ?? error.message})`),
  );
  if (size > ARCHIVE_LIMITS.totalBytes) fail(`the file is ${size} bytes; a style file is at most ${ARCHIVE_LIMITS.totalBytes}`);
  const zip = await yauzl.openPromise(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }).catch((error: Error) =>
    fail(`not a zip archive, as a style file is (${error.message})`),
  );
  const staging = await store.staging();
  try {
    const entries = await listEntries(zip, fail);
    const manifestEntry = entries.get(MANIFEST_FILE) ?? fail(`has no ${MANIFEST_FILE}: it is not a style file (entries: ${[...entries.keys()].join(', ') || 'none'})`);
    const manifestBytes = await inflate(zip, manifestEntry, MANIFEST_FILE, ARCHIVE_LIMITS.manifestBytes, fail);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
    } catch (error) {
      fail(`${MANIFEST_FILE} is not JSON (${(error as Error).message})`);
    }
    let manifest = parseManifest(json, `${file}: ${MANIFEST_FILE}`);

    const expected = [REFERENCE_FILE, ...manifest.trajectories.map((t) => t.file)];
    const missing = expected.filter((name) => !entries.has(name));
    if (missing.length > 0) fail(`${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} listed in ${MANIFEST_FILE} but missing from the archive`);
    const extra = [...entries.keys()].filter((name) => name !== MANIFEST_FILE && !expected.includes(name));
    if (extra.length > 0) fail(`${extra.join(', ')} ${extra.length === 1 ? 'is not a file' : 'are not files'} of a style (${MANIFEST_FILE} lists ${[MANIFEST_FILE, ...expected].join(', ')})`);

    const name = options.as ?? manifest.name;
    const named = styleNameSchema.safeParse(name);
    if (!named.success) fail(`cannot import it as ${JSON.stringify(name)}: a style name ${named.error.issues[0].message}`);
    const warnings: string[] = [];
    const listed = manifest;
    let rebound = false;
    manifest = { ...manifest, name };
    const here = await options.localModel(manifest.model.id);
    if (options.reinvertOn !== undefined && options.reinvertOn.unetSha256 !== manifest.model.unetSha256) {
      const to = options.reinvertOn;
      warnings.push(
        `style ${name} was made on model ${manifest.model.id} (U-Net ${short(manifest.model.unetSha256)}); it is now bound to ${to.id} (U-Net ${short(to.unetSha256)}), ` +
          `on which its reference image is inverted at first use: images will differ from those made on ${manifest.model.id}`,
      );
      manifest = rebind(manifest, to);
      rebound = true;
    } else if (here === undefined && options.reinvertOn === undefined) {
      fail(
        `style ${manifest.name} belongs to model ${JSON.stringify(manifest.model.id)} (U-Net ${short(manifest.model.unetSha256)}), which is not here; install that model, or import with --reinvert --model ID to invert its reference image on a model you have`,
        'model_not_found',
      );
    } else if (options.reinvertOn === undefined && here!.unetSha256 !== manifest.model.unetSha256) {
      fail(
        `style ${manifest.name} belongs to model ${manifest.model.id} with U-Net ${short(manifest.model.unetSha256)}, but the model ${here!.id} here has U-Net ${short(here!.unetSha256)}: other weights; import with --reinvert to invert its reference image on the model here (images will differ)`,
        'model_mismatch',
      );
    }
    const reference = await inflate(zip, entries.get(REFERENCE_FILE)!, REFERENCE_FILE, ARCHIVE_LIMITS.referenceBytes, fail);
    checkListed(reference, listed.reference, REFERENCE_FILE, fail);
    checkReference(reference, listed, fail);
    await store.writeFile(staging, REFERENCE_FILE, reference);
    // Checked as listed, whether or not they come along (not to another model).
    for (const entry of listed.trajectories) {
      const bytes = await inflate(zip, entries.get(entry.file)!, entry.file, ARCHIVE_LIMITS.trajectoryBytes, fail);
      checkListed(bytes, entry, entry.file, fail);
      let dims: number[] = [];
      try {
        dims = parseNpy(bytes, entry.file).dims;
      } catch (error) {
        fail((error as Error).message);
      }
      if (dims.length !== 4 || dims[0] !== entry.steps + 1 || dims[3] * entry.height !== dims[2] * entry.width) {
        fail(`${entry.file} has shape [${dims.join(', ')}]; a trajectory of ${entry.steps} steps at ${entry.width}x${entry.height} is [${entry.steps + 1}, C, h, w] with w/h = ${entry.width}/${entry.height}`);
      }
      if (entry.unetSha256 !== listed.model.unetSha256) {
        fail(`${entry.file} was inverted on another U-Net (${short(entry.unetSha256)}) than the style's model's (${short(listed.model.unetSha256)})`);
      }
      if (!rebound) await store.writeFile(staging, entry.file, bytes);
    }

    await store.writeFile(staging, MANIFEST_FILE, manifestText(manifest));
    return { style: await store.install(staging, name, { replace: options.replace }), warnings };
  } finally {
    zip.close();
    await rm(staging, { recursive: true, force: true });
  }
}

/** The first 12 hex digits, as a person compares hashes. */
function short(sha256: string): string {
  return `${sha256.slice(0, 12)}…`;
}

/** Every entry by name, refusing names that could leave the style's folder, links, encryption and sizes over their limits. */
async function listEntries(zip: yauzl.ZipFile, fail: (problem: string) => never): Promise<Map<string, yauzl.Entry>> {
  if (zip.entryCount > ARCHIVE_LIMITS.entries) fail(`it has ${zip.entryCount} entries; a style has at most ${ARCHIVE_LIMITS.entries}`);
  const entries = new Map<string, yauzl.Entry>();
  let total = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      const raw = entry.fileName as unknown as Buffer;
      // A style's names are ASCII; anything else is not one of them, and is shown escaped.
      const name = [...raw].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('');
      const parts = name.split(/[\\/]/);
      if (name.startsWith('/') || name.includes('\\') || /^[a-zA-Z]:/.test(name) || parts.includes('..')) {
        fail(`entry ${JSON.stringify(name)} points outside the style's folder (an absolute path, a backslash or ..): refused, nothing is unpacked from such an archive`);
      }
      // A folder entry holds nothing; trajectories/ may come with one.
      if (name.endsWith('/')) {
        if (name !== 'trajectories/' || entry.uncompressedSize !== 0) fail(`entry ${JSON.stringify(name)} is not a file or folder of a style`);
        continue;
      }
      const type = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (type !== 0 && type !== 0o100000) fail(`entry ${JSON.stringify(name)} is not a plain file (a symbolic link or a device): refused`);
      if (entry.isEncrypted()) fail(`entry ${JSON.stringify(name)} is encrypted; a style file is not`);
      if (entries.has(name)) fail(`entry ${JSON.stringify(name)} is in the archive twice`);
      const limit = limitFor(name);
      if (entry.uncompressedSize > limit) fail(`entry ${JSON.stringify(name)} is ${entry.uncompressedSize} bytes unpacked, over the ${limit} a style's ${name === MANIFEST_FILE ? 'manifest' : name === REFERENCE_FILE ? 'reference image' : 'trajectory'} may have`);
      total += entry.uncompressedSize;
      if (total > ARCHIVE_LIMITS.totalBytes) fail(`its entries are over ${ARCHIVE_LIMITS.totalBytes} bytes unpacked, the most a style file holds`);
      entries.set(name, entry);
    }
  } catch (error) {
    if (error instanceof StylesetError) throw error;
    fail(`the zip archive is damaged (${(error as Error).message})`);
  }
  return entries;
}

function limitFor(name: string): number {
  if (name === MANIFEST_FILE) return ARCHIVE_LIMITS.manifestBytes;
  if (name === REFERENCE_FILE) return ARCHIVE_LIMITS.referenceBytes;
  return ARCHIVE_LIMITS.trajectoryBytes;
}

/** An entry's bytes, stopping at its limit whatever it declared: inflating more than it says is a zip bomb. */
async function inflate(zip: yauzl.ZipFile, entry: yauzl.Entry, name: string, limit: number, fail: (problem: string) => never): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream) {
      length += (chunk as Buffer).length;
      if (length > limit) {
        stream.destroy();
        fail(`entry ${name} inflates to more than ${limit} bytes: refused (a zip bomb)`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof StylesetError) throw error;
    const message = (error as Error).message;
    if (/too many bytes|not enough bytes/.test(message)) {
      fail(`entry ${name} inflates to another size than the ${entry.uncompressedSize} bytes it declares (${message}): refused, as a zip bomb is`);
    }
    fail(`entry ${name} cannot be unpacked (${message})`);
  }
  return Buffer.concat(chunks, length);
}

function checkListed(bytes: Uint8Array, listed: { bytes: number; sha256: string }, name: string, fail: (problem: string) => never): void {
  if (bytes.length !== listed.bytes) fail(`${name} is ${bytes.length} bytes; ${MANIFEST_FILE} lists ${listed.bytes}`);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== listed.sha256) fail(`${name} is not the file ${MANIFEST_FILE} lists: its SHA-256 is ${short(digest)}, not ${short(listed.sha256)}`);
}

/** The reference must be a PNG that decodes, of the size the manifest says. */
function checkReference(bytes: Uint8Array, manifest: StyleManifest, fail: (problem: string) => never): void {
  let image: { width: number; height: number };
  try {
    if (sniffImageFormat(bytes, REFERENCE_FILE) !== 'png') fail(`${REFERENCE_FILE} is a JPEG, not a PNG`);
    image = decodeImage(bytes, REFERENCE_FILE, { maxPixels: LIMITS.size.max * LIMITS.size.max });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    // The image modules say "reference.png: what is wrong".
    return fail(`${REFERENCE_FILE} is not a usable image: ${error.message.replace(`${REFERENCE_FILE}: `, '')}`);
  }
  if (image.width !== manifest.reference.width || image.height !== manifest.reference.height) {
    fail(`${REFERENCE_FILE} is ${image.width}x${image.height}; ${MANIFEST_FILE} says ${manifest.reference.width}x${manifest.reference.height}`);
  }
}

/**
 * The style bound to another model: its reference image (a set's first image, or the image it
 * was made from) is inverted there, with the reference-image path's sampler settings and that
 * model's size; trajectories of the old model go. Its StyleAligned switches stay.
 */
function rebind(manifest: StyleManifest, to: LocalModel): StyleManifest {
  const { seed: _, ...rest } = manifest;
  return {
    ...rest,
    kind: 'image',
    model: { id: to.id, unetSha256: to.unetSha256 },
    options: {
      ...manifest.options,
      ...referenceSampling(to.referenceGuidance),
      width: to.width,
      height: to.height,
      inversionGuidance: manifest.options.inversionGuidance ?? REFERENCE_IMAGE_DEFAULTS.inversionGuidance,
      inversionOffset: manifest.options.inversionOffset ?? REFERENCE_IMAGE_DEFAULTS.inversionOffset,
      // The set's batch layout meant nothing on another model.
      batchSize: undefined,
    },
    nextIndex: 0,
    trajectories: [],
  };
}
