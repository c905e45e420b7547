/**
 * The rewritten U-Net, cached on disk.
 *
 * An entry is a folder `<cacheDir>/shared-unet-<key>` holding `model.onnx` (the rewritten graph),
 * the source's external data files under their own locations, and `manifest.json`, written last.
 * The key hashes the rewrite's version and the source model.onnx's path, size, mtime and inode;
 * the manifest adds the same of every data file the source references, so changing or replacing
 * any of them invalidates the entry, and the size and hash of what the entry holds, so a truncated or
 * damaged entry is never used. An entry is built in a temporary folder and renamed into place:
 * a crash leaves no half-written entry under the key's name.
 *
 * Data files: ONNX Runtime (1.30) resolves external data against the model's folder and refuses
 * locations that leave it, through `..` or through a symbolic link (it checks the resolved path).
 * The user's model folder may be read-only, so the rewritten model.onnx cannot sit next to the
 * data. A hard link inside the entry is accepted and costs nothing; when the cache is on another
 * file system (or links are not permitted) the file is copied, with a copy-on-write clone where the
 * file system offers one. Neither path reads the weights into this process: the rewrite itself
 * parses model.onnx only. An inline-weight source gets its weights moved to a data file in the entry.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ModelError } from '../errors';
import { externalDataRef, isExternal, readModel, writeModel, type ModelProto } from '../onnx';
import { REWRITE_VERSION, rewriteSharedUnet, type SharedUnetInfo } from './rewrite';

export interface PreparedUnet extends SharedUnetInfo {
  /** The rewritten model.onnx, ready for a session. */
  path: string;
}

/** A file's identity as far as the cache can tell without reading it: replacing or editing it changes one of these. */
interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Manifest extends SharedUnetInfo {
  version: number;
  source: string;
  sourceStamp: FileStamp;
  /** The source's external data files, by location relative to its folder. */
  sourceData: Record<string, FileStamp>;
  /** What the entry holds: file name -> size, and the rewritten model.onnx's SHA-256. */
  files: Record<string, number>;
  modelSha256: string;
  /** How the source's data files came into the entry. */
  dataFiles: 'none' | 'hard link' | 'copy';
}

const MODEL_FILE = 'model.onnx';
const MANIFEST_FILE = 'manifest.json';
const OWN_DATA_FILE = 'model.onnx.styleset_data';
const ENTRY_PREFIX = 'shared-unet-';
/** Temporary folders older than this are left over from a crash. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** The cached rewrite of `sourceOnnxPath`, rewriting it first when there is none or it is out of date. */
export async function prepareSharedUnet(sourceOnnxPath: string, cacheDir: string): Promise<PreparedUnet> {
  const source = resolve(sourceOnnxPath);
  const sourceStamp = await stampOf(source);
  const key = createHash('sha256').update(JSON.stringify({ version: REWRITE_VERSION, source, ...sourceStamp })).digest('hex').slice(0, 24);
  const entry = join(resolve(cacheDir), `${ENTRY_PREFIX}${key}`);
  const cached = await validEntry(entry, source, sourceStamp);
  if (cached) return cached;

  await mkdir(dirname(entry), { recursive: true });
  await removeStaleTemps(dirname(entry));
  const temp = `${dirname(entry)}/.tmp-${key}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const manifest = await buildEntry(temp, source, sourceStamp);
    await rm(entry, { recursive: true, force: true });
    try {
      await rename(temp, entry);
    } catch (cause) {
      // Another process may have put the same entry in place meanwhile.
      const theirs = await validEntry(entry, source, sourceStamp);
      if (theirs) return theirs;
      throw new ModelError(`cannot store the rewritten U-Net in ${entry}`, { cause });
    }
    await removeOtherEntries(dirname(entry), entry, source);
    return { path: join(entry, MODEL_FILE), layerCount: manifest.layerCount, groupNormCount: manifest.groupNormCount };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function buildEntry(dir: string, source: string, sourceStamp: FileStamp): Promise<Manifest> {
  const model = await readModel(source);
  const rewritten = rewriteSharedUnet(model, source);
  await mkdir(dir, { recursive: true });
  const locations = externalLocations(model, source);
  const sourceData: Record<string, FileStamp> = {};
  let dataFiles: Manifest['dataFiles'] = 'none';
  for (const location of locations) {
    const from = resolve(dirname(source), location);
    sourceData[location] = await stampOf(from);
    const to = join(dir, location);
    await mkdir(dirname(to), { recursive: true });
    const how = await linkOrCopy(from, to);
    if (dataFiles !== 'copy') dataFiles = how;
  }
  const ownData = locations.includes(OWN_DATA_FILE) ? `styleset-${OWN_DATA_FILE}` : OWN_DATA_FILE;
  await writeModel(join(dir, MODEL_FILE), rewritten.model, { externalData: { location: ownData } });
  const files: Record<string, number> = {};
  for (const name of [MODEL_FILE, ownData, ...locations]) files[name] = (await stat(join(dir, name))).size;
  const manifest: Manifest = {
    version: REWRITE_VERSION,
    source,
    sourceStamp,
    sourceData,
    files,
    modelSha256: await sha256(join(dir, MODEL_FILE)),
    dataFiles,
    layerCount: rewritten.layerCount,
    groupNormCount: rewritten.groupNormCount,
  };
  await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Locations of the source's external data, checked as ONNX Runtime would (inside the model's folder). */
function externalLocations(model: ModelProto, source: string): string[] {
  const locations = new Set<string>();
  for (const tensor of model.graph!.initializer) {
    if (!isExternal(tensor)) continue;
    const { location } = externalDataRef(tensor);
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
      throw new ModelError(`${source}: external data location "${location}" of ${tensor.name} is outside the model's folder`);
    }
    locations.add(location);
  }
  return [...locations];
}

async function linkOrCopy(from: string, to: string): Promise<'hard link' | 'copy'> {
  try {
    await link(from, to);
    return 'hard link';
  } catch {
    // Another file system, or links not permitted: a copy (a clone where the file system can).
    try {
      await copyFile(from, to, constants.COPYFILE_FICLONE);
    } catch (cause) {
      throw new ModelError(`cannot link or copy the U-Net's weights ${from} into the cache at ${to}`, { cause });
    }
    return 'copy';
  }
}

/** The entry's result when it is complete and was made from the source as it is now. */
async function validEntry(entry: string, source: string, sourceStamp: FileStamp): Promise<PreparedUnet | undefined> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(entry, MANIFEST_FILE), 'utf8')) as Manifest;
  } catch {
    return undefined;
  }
  const same = (a: FileStamp | undefined, b: FileStamp) =>
    a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
  if (manifest.version !== REWRITE_VERSION || manifest.source !== source || !same(manifest.sourceStamp, sourceStamp)) return undefined;
  try {
    for (const [location, stamp] of Object.entries(manifest.sourceData)) {
      if (!same(stamp, await stampOf(resolve(dirname(source), location)))) return undefined;
    }
    for (const [name, size] of Object.entries(manifest.files)) {
      if ((await stat(join(entry, name))).size !== size) return undefined;
    }
    if ((await sha256(join(entry, MODEL_FILE))) !== manifest.modelSha256) return undefined;
  } catch {
    return undefined;
  }
  return { path: join(entry, MODEL_FILE), layerCount: manifest.layerCount, groupNormCount: manifest.groupNormCount };
}

async function stampOf(path: string): Promise<FileStamp> {
  try {
    const { size, mtimeMs, ino } = await stat(path);
    return { size, mtimeMs, ino };
  } catch (cause) {
    throw new ModelError(`cannot read ${path}`, { cause });
  }
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** Earlier rewrites of the same source (it changed since): their weights may be whole copies. */
async function removeOtherEntries(cacheDir: string, keep: string, source: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const entry = join(cacheDir, name);
    if (!name.startsWith(ENTRY_PREFIX) || entry === keep) continue;
    try {
      const manifest = JSON.parse(await readFile(join(entry, MANIFEST_FILE), 'utf8')) as Manifest;
      if (manifest.source === source) await rm(entry, { recursive: true, force: true });
    } catch {
      // No readable manifest (not an entry of ours), or files still open (Windows): left alone.
    }
  }
}

async function removeStaleTemps(cacheDir: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    if (!name.startsWith('.tmp-')) continue;
    const path = join(cacheDir, name);
    try {
      if (Date.now() - (await stat(path)).mtimeMs > STALE_TEMP_MS) await rm(path, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}
