import { randomBytes } from 'node:crypto';
import { link, mkdir, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isInside } from './paths';

/** The file is there now, though it was missing when the set was planned: someone put a real image there. */
export class TargetExistsError extends Error {
  readonly code = 'target_exists';

  constructor(readonly target: string) {
    super(`${target} exists now; it was missing when the set was planned`);
    this.name = 'TargetExistsError';
  }
}

/** The path, once symbolic links are followed, leads out of the workspace folder. */
export class OutsideWorkspaceError extends Error {
  readonly code = 'outside_workspace';

  constructor(
    readonly target: string,
    readonly folder: string,
  ) {
    super(`${target} is outside the workspace folder ${folder} once links are followed`);
    this.name = 'OutsideWorkspaceError';
  }
}

export interface WriteImage {
  /** The workspace folder: nothing is ever written outside it, links followed. */
  folder: string;
  target: string;
  bytes: Uint8Array;
  /**
   * Replace a file already there (a placeholder, or a file the user agreed to replace). Without
   * it a file that appeared meanwhile is kept and a TargetExistsError thrown.
   */
  replace: boolean;
}

/**
 * Writes an image atomically: into a temporary file next to the target, then moved into place in
 * one step, so an editor, a dev server or a crash never sees half a file. Without `replace` the
 * move is a hard link, which fails if a file got there first instead of overwriting it. Missing
 * folders are made, but only after the deepest existing one is found to be inside the workspace
 * with links followed (a linked folder may point anywhere).
 */
export async function writeImage({ folder, target, bytes, replace }: WriteImage): Promise<void> {
  if (!isInside(folder, target)) throw new OutsideWorkspaceError(target, folder);
  const realFolder = await realpath(folder);
  const existing = await deepestExisting(dirname(target));
  if (!isInside(realFolder, await realpath(existing))) throw new OutsideWorkspaceError(target, folder);
  await mkdir(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.styleset-tmp`);
  await writeFile(temporary, bytes, { flag: 'wx' });
  try {
    if (replace) {
      await rename(temporary, target);
      return;
    }
    try {
      await link(temporary, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new TargetExistsError(target);
      // File systems without hard links (FAT, some network shares): check, then move.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      if (await exists(target)) throw new TargetExistsError(target);
      await rename(temporary, target);
    }
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

/** The path itself or its nearest ancestor that exists. */
async function deepestExisting(path: string): Promise<string> {
  let current = path;
  while (!(await exists(current))) {
    const parent = dirname(current);
    if (parent === current) return current;
    current = parent;
  }
  return current;
}

export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
