import { statfs } from 'node:fs/promises';

/** Bytes the current user may still write on the file system holding `dir`. */
export type FreeSpace = (dir: string) => Promise<number>;

export const statfsFreeSpace: FreeSpace = async (dir) => {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
};
