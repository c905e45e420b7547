import { join } from 'node:path';
import type { FileSystem } from './file-system';

/**
 * What deleting `path` (a file or a folder) frees: the sizes of its files that have no other hard
 * link. The data folder's caches hard-link model weights; deleting such a link frees nothing.
 */
export async function freedBytes(fs: FileSystem, path: string): Promise<number> {
  let info;
  try {
    info = await fs.stat(path);
  } catch {
    return 0;
  }
  if (!info.isDirectory()) return info.nlink <= 1 ? info.size : 0;
  let total = 0;
  for (const entry of await fs.readdir(path)) total += await freedBytes(fs, join(path, entry.name));
  return total;
}
