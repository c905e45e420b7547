import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as z from 'zod';
import { ModelError } from '../errors';
import { readModelLayout } from '../model/layout';
import { externalDataRef, isExternal, readModel } from '../onnx';
import { makeFolder, nodeFileSystem, storageError, writeFileAtomic } from '../storage';

/**
 * A file's identity as far as can be told without reading it. mtime alone is not enough: a tool
 * can rewrite a file and set its mtime back (`touch -d`, `rsync -t`, `cp -p`), but not its ctime,
 * which the kernel sets on every change of content or metadata; inode and device catch a file
 * replaced by another.
 */
const stampSchema = z.strictObject({
  name: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  ctimeMs: z.number(),
  ino: z.number(),
  dev: z.number(),
});

type Stamp = z.infer<typeof stampSchema>;

const cacheSchema = z.strictObject({
  /** The U-Net's model.onnx. */
  path: z.string(),
  /** model.onnx first, then its external data files. */
  files: z.array(stampSchema).min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface UnetHash {
  sha256: string;
  /** Whether it came from the cache (the files' stamps unchanged) rather than from reading them. */
  cached: boolean;
}

/** Where hashes are kept, one small file per U-Net path. */
export function unetHashDir(dataDir: string): string {
  return join(dataDir, 'unet-hashes');
}

/**
 * The SHA-256 that names a U-Net's weights (the README's Styles): of the text of one line per
 * file, `<name> <size> <sha256 of the file>\n`, for model.onnx and then each external data file
 * the graph names (its location relative to the U-Net's folder, sorted). Reading a multi-GB U-Net
 * takes seconds to minutes, so the result is kept in the data folder with each file's stamps
 * (size, mtime, ctime, inode, device) and read again only when a stamp changed.
 */
export async function unetSha256(dataDir: string, unetOnnx: string): Promise<UnetHash> {
  const path = resolve(unetOnnx);
  const cacheFile = join(unetHashDir(dataDir), `${createHash('sha256').update(path).digest('hex').slice(0, 32)}.json`);
  const cached = await readCache(cacheFile, path);
  if (cached !== undefined && (await stampsUnchanged(path, cached.files))) return { sha256: cached.sha256, cached: true };

  const names = ['model.onnx', ...(await externalFiles(path))];
  const files: Stamp[] = [];
  const lines: string[] = [];
  for (const name of names) {
    const file = join(dirname(path), name);
    const before = await stampOf(file, name);
    const digest = await fileSha256(file);
    // A file written while it was read would give a hash of neither version: read it again next time.
    const after = await stampOf(file, name);
    if (!sameStamp(before, after)) throw new ModelError(`${file} changed while it was being hashed; try again once it is written`);
    files.push(before);
    lines.push(`${name} ${before.size} ${digest}\n`);
  }
  const sha256 = createHash('sha256').update(lines.join('')).digest('hex');
  try {
    await makeFolder(nodeFileSystem, dirname(cacheFile));
    await writeFileAtomic(nodeFileSystem, cacheFile, `${JSON.stringify({ path, files, sha256 }, null, 2)}\n`);
  } catch (error) {
    throw storageError(error, dataDir, cacheFile);
  }
  return { sha256, cached: false };
}

async function readCache(cacheFile: string, path: string): Promise<z.infer<typeof cacheSchema> | undefined> {
  try {
    const cache = cacheSchema.parse(JSON.parse(await readFile(cacheFile, 'utf8')));
    return cache.path === path && cache.files[0].name === 'model.onnx' ? cache : undefined;
  } catch {
    // None yet, or unreadable: hashed again and rewritten.
    return undefined;
  }
}

/** model.onnx's stamp first: unchanged, it names the same external files as when they were listed. */
async function stampsUnchanged(path: string, files: readonly Stamp[]): Promise<boolean> {
  try {
    for (const stamp of files) {
      if (!sameStamp(stamp, await stampOf(join(dirname(path), stamp.name), stamp.name))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

async function stampOf(file: string, name: string): Promise<Stamp> {
  try {
    const { size, mtimeMs, ctimeMs, ino, dev } = await stat(file);
    return { name, size, mtimeMs, ctimeMs, ino, dev };
  } catch (cause) {
    throw new ModelError(`cannot read ${file}, a file of the U-Net`, { cause });
  }
}

/** The external data files the U-Net's graph names, relative to its folder, sorted. */
async function externalFiles(path: string): Promise<string[]> {
  const model = await readModel(path);
  const locations = new Set<string>();
  for (const tensor of model.graph?.initializer ?? []) {
    if (!isExternal(tensor)) continue;
    const { location } = externalDataRef(tensor);
    if (isAbsolute(location) || location.split(/[\\/]/).includes('..')) {
      throw new ModelError(`${path}: external data location "${location}" of ${tensor.name} is outside the model's folder`);
    }
    locations.add(location.replaceAll('\\', '/'));
  }
  return [...locations].sort();
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  } catch (cause) {
    throw new ModelError(`cannot read ${file}, a file of the U-Net`, { cause });
  }
  return hash.digest('hex');
}

/** The U-Net hash of the model in `modelDir` (a diffusers/Optimum ONNX export). */
export async function modelUnetSha256(dataDir: string, modelDir: string): Promise<UnetHash> {
  const layout = await readModelLayout(modelDir);
  return unetSha256(dataDir, layout.unet.onnx);
}
