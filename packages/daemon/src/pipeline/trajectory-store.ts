import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { formatNpy, parseNpy } from '../image/npy';
import { makeFolder, nodeFileSystem, storageError, writeFileAtomic } from '../storage';
import type { Trajectory } from './invert';

/** Everything an inverted trajectory depends on (the method doc): nothing else may change it. */
export interface TrajectoryKeyParts {
  imageBytes: Uint8Array;
  prompt: string;
  /** The U-Net file the inversion ran on; its size and mtime stand in for its content. */
  unetPath: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
}

export interface TrajectoryMeta {
  key: string;
  prompt: string;
  steps: number;
  guidance: number;
  width: number;
  height: number;
  unetPath: string;
  created: string;
}

/** The cache key: a hash of the image bytes, its prompt, the model file and the settings. */
export async function trajectoryKey(parts: TrajectoryKeyParts): Promise<string> {
  const unet = await stat(parts.unetPath);
  const hash = createHash('sha256');
  hash.update(createHash('sha256').update(parts.imageBytes).digest());
  hash.update(JSON.stringify([parts.prompt, parts.unetPath, unet.size, unet.mtimeMs, parts.steps, parts.guidance, parts.width, parts.height]));
  return hash.digest('hex').slice(0, 32);
}

/**
 * Inverted trajectories on disk (`<dir>/<key>.npy` + `<key>.json`), so a second set in the same
 * style skips the inversion. Writes are atomic (see writeFileAtomic): a crash leaves no
 * half-written entry.
 */
export class TrajectoryStore {
  constructor(readonly dir: string) {}

  has(key: string): boolean {
    return existsSync(this.npyPath(key)) && existsSync(this.metaPath(key));
  }

  async load(key: string): Promise<{ trajectory: Trajectory; meta: TrajectoryMeta } | undefined> {
    if (!isKey(key) || !this.has(key)) return undefined;
    const [bytes, meta] = await Promise.all([readFile(this.npyPath(key)), readFile(this.metaPath(key), 'utf8')]);
    return { trajectory: parseNpy(bytes, this.npyPath(key)), meta: JSON.parse(meta) as TrajectoryMeta };
  }

  /** Owner-only (a trajectory is derived from the user's image); a full disk is a `disk_full` naming the data folder. */
  async save(meta: Omit<TrajectoryMeta, 'created'>, trajectory: Trajectory): Promise<void> {
    const write = async (file: string, data: string | Uint8Array) => {
      try {
        await makeFolder(nodeFileSystem, this.dir);
        await writeFileAtomic(nodeFileSystem, file, data);
      } catch (error) {
        throw storageError(error, dirname(this.dir), file);
      }
    };
    await write(this.npyPath(meta.key), formatNpy(trajectory));
    await write(this.metaPath(meta.key), JSON.stringify({ ...meta, created: new Date().toISOString() }, null, 2) + '\n');
  }

  npyPath(key: string): string {
    return join(this.dir, `${key}.npy`);
  }

  private metaPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}

/** Keys come from clients too: only our own hex names may become paths. */
function isKey(key: string): boolean {
  return /^[0-9a-f]{32}$/.test(key);
}
