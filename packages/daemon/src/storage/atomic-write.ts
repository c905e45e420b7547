import { randomBytes } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import type { FileSystem } from './file-system';

/** Drafts end so; a folder's reader removes the ones a crash left behind. */
export const DRAFT_SUFFIX = '.tmp';

/**
 * Writes a whole file so that a crash or a power cut at any moment leaves either the old file or
 * the new one under its name, never part of one: a fresh draft beside it, written and flushed
 * (without the flush, the rename can reach the disk before the data and leave an empty file under
 * the final name), renamed over the name, then the folder flushed (without it, the rename itself
 * may be lost). Owner-only by default: what the daemon writes is the user's.
 */
export async function writeFileAtomic(fs: FileSystem, file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const draft = `${file}.${randomBytes(4).toString('hex')}${DRAFT_SUFFIX}`;
  const handle = await fs.open(draft, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.rm(draft, { force: true }).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(draft, file);
  } catch (error) {
    await fs.rm(draft, { force: true }).catch(() => undefined);
    throw error;
  }
  await syncFolder(fs, dirname(file));
}

/**
 * Makes a folder (and any missing parents) owner-only, and flushes each new one's parent so that
 * it survives a power cut: a file flushed into a folder that was never recorded in its parent
 * is lost with that folder.
 */
export async function makeFolder(fs: FileSystem, dir: string): Promise<void> {
  const first = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  const created = relative(dirname(first), dir).split(sep);
  let parent = dirname(first);
  for (const part of created) {
    await syncFolder(fs, parent);
    parent = join(parent, part);
  }
}

/** fsync of a folder: its entries (new names, renames) are on the disk. */
export async function syncFolder(fs: FileSystem, dir: string): Promise<void> {
  // Windows cannot open a folder as a file; NTFS journals its metadata itself.
  if (process.platform === 'win32') return;
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
