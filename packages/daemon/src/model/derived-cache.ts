/**
 * Models derived from a user's export (the U-Net's shared-attention rewrite, float32 copies of
 * float16 exports), cached on disk.
 *
 * An entry is a folder `<cacheDir>/<kind>-<key>` holding `model.onnx`, its weights, and
 * `manifest.json`, written last. The key hashes the derivation (kind, version, whether it upcasts)
 * and the source model.onnx's path, size, mtime and inode; the manifest adds the same of every
 * data file the source references, so changing or replacing any of them invalidates the entry,
 * and the size and hash of what the entry holds, so a truncated or damaged entry is never used. An
 * entry is built in a temporary folder and renamed into place: a crash leaves no half-written
 * entry under the key's name.
 *
 * Data files: ONNX Runtime (1.30) resolves external data against the model's folder and refuses
 * locations that leave it, through `..` or through a symbolic link (it checks the resolved path).
 * The user's model folder may be read-only, so a derived model.onnx cannot sit next to the data. A
 * hard link inside the entry is accepted and costs nothing; when the cache is on another file
 * system (or links are not permitted) the file is copied, with a copy-on-write clone where the
 * file system offers one. Neither path reads the weights into this process: the derivation parses
 * model.onnx only. An inline-weight source gets its weights moved to a data file in the entry. An
 * upcast entry holds its own converted weights instead (read from the source a tensor at a time).
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ModelError } from '../errors';
import { externalDataRef, hasFloat16, isExternal, readModel, upcastFloat16Model, writeModel, type ModelProto } from '../onnx';

export interface Derivation<I> {
  /** Names the entry folders: `<kind>-<key>`. */
  kind: string;
  /** Bumped whenever the derivation's output changes: older entries are then rebuilt. */
  version: number;
  /** The graph change, and what the caller needs to know about the result (kept in the manifest). */
  transform(model: ModelProto, source: string): { model: ModelProto; info: I };
  /** Also make a float16 model compute in float32 (its inputs and outputs stay float16). */
  upcastFloat16: boolean;
}

export interface DerivedModel<I> {
  /** The derived model.onnx, ready for a session. */
  path: string;
  info: I;
  /** Whether it was upcast from float16. */
  upcast: boolean;
}

/** A file's identity as far as the cache can tell without reading it: replacing or editing it changes one of these. */
interface FileStamp {
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Manifest<I> {
  kind: string;
  version: number;
  source: string;
  sourceStamp: FileStamp;
  /** The source's external data files, by location relative to its folder. */
  sourceData: Record<string, FileStamp>;
  /** What the entry holds: file name -> size, and model.onnx's SHA-256. */
  files: Record<string, number>;
  modelSha256: string;
  /** How the weights came into the entry. */
  dataFiles: 'none' | 'hard link' | 'copy' | 'upcast';
  info: I;
}

const MODEL_FILE = 'model.onnx';
const MANIFEST_FILE = 'manifest.json';
const OWN_DATA_FILE = 'model.onnx.styleset_data';
/** Temporary folders older than this are left over from a crash. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** The cached derivation of `sourceOnnxPath`, when there is one and it is up to date. */
export async function cachedDerivedModel<I>(sourceOnnxPath: string, cacheDir: string, derivation: Derivation<I>): Promise<DerivedModel<I> | undefined> {
  const source = resolve(sourceOnnxPath);
  const sourceStamp = await stampOf(source);
  return await validEntry(entryPath(cacheDir, derivation, source, sourceStamp), derivation, source, sourceStamp);
}

/** The cached derivation of `sourceOnnxPath`, deriving it first when there is none or it is out of date. */
export async function prepareDerivedModel<I>(sourceOnnxPath: string, cacheDir: string, derivation: Derivation<I>): Promise<DerivedModel<I>> {
  const source = resolve(sourceOnnxPath);
  const sourceStamp = await stampOf(source);
  const entry = entryPath(cacheDir, derivation, source, sourceStamp);
  const cached = await validEntry(entry, derivation, source, sourceStamp);
  if (cached) return cached;

  await mkdir(dirname(entry), { recursive: true, mode: 0o700 });
  await removeStaleTemps(dirname(entry));
  const temp = `${dirname(entry)}/.tmp-${derivation.kind}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const manifest = await buildEntry(temp, derivation, source, sourceStamp);
    await rm(entry, { recursive: true, force: true });
    try {
      await rename(temp, entry);
    } catch (cause) {
      // Another process may have put the same entry in place meanwhile.
      const theirs = await validEntry(entry, derivation, source, sourceStamp);
      if (theirs) return theirs;
      throw new ModelError(`cannot store the ${derivation.kind} model derived from ${source} in ${entry}`, { cause });
    }
    await removeOtherEntries(dirname(entry), entry, derivation.kind, source);
    return resultOf(entry, manifest);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function entryPath(cacheDir: string, derivation: Derivation<unknown>, source: string, sourceStamp: FileStamp): string {
  const { kind, version, upcastFloat16 } = derivation;
  const key = createHash('sha256').update(JSON.stringify({ kind, version, upcastFloat16, source, ...sourceStamp })).digest('hex').slice(0, 24);
  return join(resolve(cacheDir), `${kind}-${key}`);
}

function resultOf<I>(entry: string, manifest: Manifest<I>): DerivedModel<I> {
  return { path: join(entry, MODEL_FILE), info: manifest.info, upcast: manifest.dataFiles === 'upcast' };
}

async function buildEntry<I>(dir: string, derivation: Derivation<I>, source: string, sourceStamp: FileStamp): Promise<Manifest<I>> {
  const model = await readModel(source);
  const derived = derivation.transform(model, source);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const locations = externalLocations(model, source);
  const sourceData: Record<string, FileStamp> = {};
  for (const location of locations) sourceData[location] = await stampOf(resolve(dirname(source), location));
  let dataFiles: Manifest<I>['dataFiles'] = 'none';
  let ownFiles: string[];
  if (derivation.upcastFloat16 && hasFloat16(derived.model)) {
    await upcastFloat16Model(derived.model, dirname(source), join(dir, MODEL_FILE), { dataLocation: OWN_DATA_FILE });
    dataFiles = 'upcast';
    ownFiles = [MODEL_FILE, OWN_DATA_FILE];
  } else {
    for (const location of locations) {
      const to = join(dir, location);
      await mkdir(dirname(to), { recursive: true, mode: 0o700 });
      const how = await linkOrCopy(resolve(dirname(source), location), to);
      if (dataFiles !== 'copy') dataFiles = how;
    }
    const ownData = locations.includes(OWN_DATA_FILE) ? `styleset-${OWN_DATA_FILE}` : OWN_DATA_FILE;
    await writeModel(join(dir, MODEL_FILE), derived.model, { externalData: { location: ownData } });
    ownFiles = [MODEL_FILE, ownData, ...locations];
  }
  const files: Record<string, number> = {};
  for (const name of ownFiles) files[name] = (await stat(join(dir, name))).size;
  const manifest: Manifest<I> = {
    kind: derivation.kind,
    version: derivation.version,
    source,
    sourceStamp,
    sourceData,
    files,
    modelSha256: await sha256(join(dir, MODEL_FILE)),
    dataFiles,
    info: derived.info,
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
      throw new ModelError(`cannot link or copy the weights ${from} into the cache at ${to}`, { cause });
    }
    return 'copy';
  }
}

/** The entry's result when it is complete and was made by this derivation from the source as it is now. */
async function validEntry<I>(entry: string, derivation: Derivation<I>, source: string, sourceStamp: FileStamp): Promise<DerivedModel<I> | undefined> {
  let manifest: Manifest<I>;
  try {
    manifest = JSON.parse(await readFile(join(entry, MANIFEST_FILE), 'utf8')) as Manifest<I>;
  } catch {
    return undefined;
  }
  const same = (a: FileStamp | undefined, b: FileStamp) =>
    a !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
  if (manifest.kind !== derivation.kind || manifest.version !== derivation.version) return undefined;
  if (manifest.source !== source || !same(manifest.sourceStamp, sourceStamp)) return undefined;
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
  return resultOf(entry, manifest);
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

/** Earlier derivations of the same kind from the same source (it changed since): their weights may be whole copies. */
async function removeOtherEntries(cacheDir: string, keep: string, kind: string, source: string): Promise<void> {
  for (const name of await readdir(cacheDir)) {
    const entry = join(cacheDir, name);
    if (!name.startsWith(`${kind}-`) || entry === keep) continue;
    try {
      const manifest = JSON.parse(await readFile(join(entry, MANIFEST_FILE), 'utf8')) as Manifest<unknown>;
      if (manifest.kind === kind && manifest.source === source) await rm(entry, { recursive: true, force: true });
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

/** The cache of derived models in a data folder. */
export function modelCacheDir(dataDir: string): string {
  return join(dataDir, 'model-cache');
}

/**
 * The entries derived from models inside `sourceDir`: a model being removed takes them along, as
 * their weights are hard links to its own (removing the model alone would free nothing).
 */
export async function derivedModelsOf(cacheDir: string, sourceDir: string): Promise<string[]> {
  const prefix = `${resolve(sourceDir)}${sep}`;
  const entries: string[] = [];
  for (const name of await readdir(cacheDir).catch(() => [] as string[])) {
    const entry = join(cacheDir, name);
    const source = await readFile(join(entry, MANIFEST_FILE), 'utf8')
      .then((text) => (JSON.parse(text) as Partial<Manifest<unknown>>).source)
      .catch(() => undefined);
    if (typeof source === 'string' && source.startsWith(prefix)) entries.push(entry);
  }
  return entries;
}
