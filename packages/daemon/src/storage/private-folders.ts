import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface Tightened {
  dir: string;
  /** The permission bits it had, e.g. 0o755. */
  was: number;
}

const OWNER_ONLY = 0o700;

/**
 * Makes each folder owner-only: created 0700 when missing, and an existing one that others can
 * read or enter (a folder made by an older version, or by hand under a 022 umask) set to 0700.
 * Only folders: a file inside an owner-only folder cannot be reached by others whatever its mode,
 * and some files must keep theirs (hard-linked model weights share their mode with the user's
 * model files). Returns what it changed, for the log. Windows has no POSIX modes; the per-user
 * AppData folders' ACLs keep them private there.
 */
export async function makeFoldersPrivate(dirs: readonly string[]): Promise<Tightened[]> {
  if (process.platform === 'win32') return [];
  const changed: Tightened[] = [];
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true, mode: OWNER_ONLY });
    const was = (await stat(dir)).mode & 0o777;
    if ((was & 0o077) === 0) continue;
    await chmod(dir, OWNER_ONLY);
    changed.push({ dir, was });
  }
  return changed;
}

/** The folder and every folder directly in it: the data folder's own folders (jobs, caches). */
export async function folderAndSubfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return [dir, ...entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name))];
}

export function describeTightened({ dir, was }: Tightened): string {
  return `${dir} was readable by other users (mode ${was.toString(8).padStart(4, '0')}); it is now 0700, owner only`;
}
