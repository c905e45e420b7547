import { constants } from 'node:fs';
import { access, lstat, readdir, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface FolderReport {
  path: string;
  exists: boolean;
  /** POSIX permission bits as octal (`0700`); absent on Windows, where the folders' ACLs apply. */
  mode?: string;
  /** Nobody but its owner may read or enter it. */
  ownerOnly?: boolean;
  /** Owned by the user running this (a folder made by `sudo styleset …` is not). */
  ownedByMe?: boolean;
  writable: boolean;
  /** What the user may still write on its file system (of the nearest folder that exists). */
  freeBytes: number;
  totalBytes: number;
}

/** A folder as the daemon needs it: there, private, writable, with room. */
export async function reportFolder(path: string): Promise<FolderReport> {
  const info = await stat(path).catch(() => undefined);
  const disk = await statfs(await nearestExisting(path));
  const report: FolderReport = {
    path,
    exists: info?.isDirectory() ?? false,
    writable: await access(info ? path : await nearestExisting(path), constants.W_OK).then(
      () => true,
      () => false,
    ),
    freeBytes: disk.bavail * disk.bsize,
    totalBytes: disk.blocks * disk.bsize,
  };
  if (info !== undefined && process.platform !== 'win32') {
    const bits = info.mode & 0o777;
    report.mode = bits.toString(8).padStart(4, '0');
    report.ownerOnly = (bits & 0o077) === 0;
    report.ownedByMe = process.getuid === undefined || info.uid === process.getuid();
  }
  return report;
}

async function nearestExisting(path: string): Promise<string> {
  let dir = path;
  while (!(await stat(dir).then(() => true, () => false))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/**
 * Bytes of the files under `path`; symbolic links are not followed. A hard-linked file counts
 * wherever it appears (the data folder's caches hard-link model weights), so sizes of folders
 * that share files do not add up to the disk used.
 */
export async function folderBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return 0;
  if (!info.isDirectory()) return info.isFile() ? info.size : 0;
  let total = 0;
  for (const entry of await readdir(path).catch(() => [])) total += await folderBytes(join(path, entry));
  return total;
}
