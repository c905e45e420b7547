import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { InputError, StylesetError } from '../errors';
import { EMBEDDED_MODEL_ID } from '../model/default-model';
import { derivedModelsOf, modelCacheDir } from '../model/derived-cache';
import { freedBytes, makeFolder, nodeFileSystem, syncFolder, writeFileAtomic, type FileSystem } from '../storage';
import { installedRecordSchema, RECORD_FILE, type InstalledRecord } from './installed-record';

/** Where installed models live: one folder per model id, named by it. */
export function installedModelsDir(dataDir: string): string {
  return join(dataDir, 'models');
}

/** Downloads in progress (or interrupted), one folder per source; renamed into place when complete. */
const PARTIAL = '.partial';
const SOURCE_FILE = 'source.json';
const TRASH_PREFIX = '.trash-';

export interface InstalledModel {
  id: string;
  dir: string;
  record: InstalledRecord;
}

export interface UnreadableModel {
  dir: string;
  reason: string;
}

export interface ModelSource {
  endpoint: string;
  repo: string;
  revision: string;
  commit: string;
  subfolder?: string;
}

export interface PartialDownload {
  dir: string;
  bytes: number;
  source?: ModelSource;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** An id is a folder name and a `--model` value: no paths, no hidden names, not the embedded model's. */
export function checkModelId(id: string): string {
  if (!ID.test(id)) {
    throw new InputError(`model id "${id}": expected letters, digits, ".", "_" or "-" (at most 128, starting with a letter or digit)`);
  }
  if (id === EMBEDDED_MODEL_ID) throw new InputError(`model id "${id}" is the embedded model's; choose another with --as`);
  return id;
}

/**
 * Every installed model, read from its folder's record. Cheap (one small file per model), so a
 * running daemon reads it again whenever it lists or looks up models: a model installed or
 * removed since it started is seen at once. Folders without a valid record are reported, not used.
 */
export async function scanInstalledModels(dataDir: string, fs: FileSystem = nodeFileSystem): Promise<{ models: InstalledModel[]; unreadable: UnreadableModel[] }> {
  const root = installedModelsDir(dataDir);
  const entries = await fs.readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const models: InstalledModel[] = [];
  const unreadable: UnreadableModel[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(root, entry.name);
    const record = await readRecord(fs, dir);
    if (typeof record === 'string') unreadable.push({ dir, reason: record });
    else models.push({ id: entry.name, dir, record });
  }
  models.sort((a, b) => a.id.localeCompare(b.id));
  return { models, unreadable };
}

export async function listInstalledModels(dataDir: string, fs: FileSystem = nodeFileSystem): Promise<InstalledModel[]> {
  return (await scanInstalledModels(dataDir, fs)).models;
}

export async function findInstalledModel(dataDir: string, id: string, fs: FileSystem = nodeFileSystem): Promise<InstalledModel | undefined> {
  if (!ID.test(id)) return undefined;
  const dir = join(installedModelsDir(dataDir), id);
  const record = await readRecord(fs, dir);
  return typeof record === 'string' ? undefined : { id, dir, record };
}

/** The record, or why there is none. */
async function readRecord(fs: FileSystem, dir: string): Promise<InstalledRecord | string> {
  let text: string;
  try {
    text = Buffer.from(await fs.readFile(join(dir, RECORD_FILE))).toString('utf8');
  } catch (error) {
    return `no ${RECORD_FILE} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `${RECORD_FILE} is not valid JSON (${(error as Error).message})`;
  }
  const parsed = installedRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${RECORD_FILE}: ${issue.path.join('.') || 'the file'}: ${issue.message}`;
  }
  return parsed.data;
}

/**
 * The folder a download of `source` is kept in until it is complete: the same one again for the
 * same repository, commit and subfolder, so that an interrupted pull resumes where it stopped.
 */
export async function openStaging(dataDir: string, source: ModelSource, fs: FileSystem = nodeFileSystem): Promise<string> {
  const key = createHash('sha256')
    .update(JSON.stringify([source.endpoint, source.repo, source.commit, source.subfolder ?? '']))
    .digest('hex')
    .slice(0, 16);
  const dir = join(installedModelsDir(dataDir), PARTIAL, key);
  await makeFolder(fs, dir);
  if (!fs.exists(join(dir, SOURCE_FILE))) await writeFileAtomic(fs, join(dir, SOURCE_FILE), `${JSON.stringify(source)}\n`);
  return dir;
}

export async function listPartialDownloads(dataDir: string, fs: FileSystem = nodeFileSystem): Promise<PartialDownload[]> {
  const root = join(installedModelsDir(dataDir), PARTIAL);
  const entries = await fs.readdir(root).catch(() => []);
  const partials: PartialDownload[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const source = await fs
      .readFile(join(dir, SOURCE_FILE))
      .then((bytes) => JSON.parse(Buffer.from(bytes).toString('utf8')) as ModelSource)
      .catch(() => undefined);
    partials.push({ dir, bytes: await freedBytes(fs, dir), source });
  }
  return partials;
}

/** Deletes every unfinished download; returns the bytes freed. */
export async function removePartialDownloads(dataDir: string, fs: FileSystem = nodeFileSystem): Promise<number> {
  let bytes = 0;
  for (const partial of await listPartialDownloads(dataDir, fs)) {
    bytes += partial.bytes;
    await fs.rm(partial.dir, { recursive: true, force: true });
  }
  return bytes;
}

/**
 * Moves a complete, checked download into place under `id` in one rename: a reader (a running
 * daemon, another command) sees the model whole or not at all. The record is written into the
 * staging folder first, flushed, so the renamed folder is complete the moment it appears.
 * `replace` swaps out an installed model of the same id, again by renames.
 */
export async function installModel(options: {
  dataDir: string;
  stagingDir: string;
  id: string;
  record: InstalledRecord;
  replace?: boolean;
  fs?: FileSystem;
}): Promise<InstalledModel> {
  const { dataDir, stagingDir, record } = options;
  const fs = options.fs ?? nodeFileSystem;
  const id = checkModelId(options.id);
  const root = installedModelsDir(dataDir);
  const target = join(root, id);
  await writeFileAtomic(fs, join(stagingDir, RECORD_FILE), `${JSON.stringify(installedRecordSchema.parse(record), null, 2)}\n`, 0o644);
  // What the download was of is in the record now.
  await fs.rm(join(stagingDir, SOURCE_FILE), { force: true });
  if (fs.exists(target)) {
    if (!options.replace) throw new StylesetError('model_exists', `a model "${id}" is already installed (${target}); remove it with \`styleset models rm ${id}\`, or choose another id with --as`);
    const trash = join(root, `${TRASH_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
    await fs.rename(target, trash);
    await fs.rename(stagingDir, target);
    await syncFolder(fs, root);
    await fs.rm(trash, { recursive: true, force: true });
  } else {
    await fs.rename(stagingDir, target);
    await syncFolder(fs, root);
  }
  return { id, dir: target, record };
}

/**
 * Removes an installed model: renamed out of sight first (one rename, so a daemon listing models
 * never sees half a folder), then deleted, with what the data folder's cache derived from it
 * (hard links to its weights: without them the weights' space would stay taken). Returns the
 * bytes freed.
 */
export async function removeInstalledModel(dataDir: string, id: string, fs: FileSystem = nodeFileSystem): Promise<number> {
  const model = await findInstalledModel(dataDir, id, fs);
  if (model === undefined) {
    const installed = (await listInstalledModels(dataDir, fs)).map((m) => m.id);
    throw new StylesetError('model_not_found', `no installed model "${id}" in ${installedModelsDir(dataDir)}; installed: ${installed.length > 0 ? installed.join(', ') : 'none'}`);
  }
  const root = installedModelsDir(dataDir);
  // The cache names its sources by the path they have: look them up before the rename.
  const derived = await derivedModelsOf(modelCacheDir(dataDir), model.dir);
  const trash = join(root, `${TRASH_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
  await fs.rename(model.dir, trash);
  await syncFolder(fs, root);
  const bytes = await bytesFreedTogether(fs, [trash, ...derived]);
  await fs.rm(trash, { recursive: true, force: true });
  // An entry held open (Windows) stays; the cache replaces or ignores it later.
  for (const entry of derived) await fs.rm(entry, { recursive: true, force: true }).catch(() => undefined);
  return bytes;
}

/** What deleting all of `paths` frees: each file counted once, when every link to it is among them. */
async function bytesFreedTogether(fs: FileSystem, paths: string[]): Promise<number> {
  const files = new Map<string, { size: number; nlink: number; seen: number }>();
  const walk = async (path: string): Promise<void> => {
    const info = await fs.stat(path).catch(() => undefined);
    if (info === undefined) return;
    if (info.isDirectory()) {
      for (const entry of await fs.readdir(path)) await walk(join(path, entry.name));
      return;
    }
    const key = info.ino === undefined ? path : `${info.dev}:${info.ino}`;
    const file = files.get(key) ?? { size: info.size, nlink: info.nlink, seen: 0 };
    file.seen += 1;
    files.set(key, file);
  };
  for (const path of paths) await walk(path);
  return [...files.values()].reduce((sum, f) => sum + (f.seen >= f.nlink ? f.size : 0), 0);
}
