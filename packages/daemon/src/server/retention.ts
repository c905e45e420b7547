import { join } from 'node:path';
import { freedBytes, nodeFileSystem, type FileSystem } from '../storage';
import { jobExpired, readJobRecords, removeJobFolder, sweepPrunedFolders, type JobRecord, type JobStore } from './job-store';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Caches earlier versions kept in the data folder and this one never reads: the shared-attention
 * U-Nets lived in `unet-cache/` before every derived model moved to `model-cache/`.
 */
export const OBSOLETE_CACHES = ['unet-cache'] as const;

export interface PruneOptions {
  dataDir: string;
  /** Finished jobs that ended longer ago than this go; 0 keeps them forever (caches are still pruned). */
  olderThanDays: number;
  /** Epoch ms; default now. */
  now?: number;
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
  /** The running daemon's store: its jobs are pruned through it, so that it forgets them too. */
  store?: JobStore;
  fs?: FileSystem;
  warn?(message: string): void;
}

export interface PruneReport {
  olderThanDays: number;
  /** Jobs that ended before this (ISO 8601) were pruned; absent when jobs are kept forever. */
  cutoff?: string;
  dryRun: boolean;
  /** Finished jobs deleted. */
  jobs: { count: number; bytes: number; ids: string[] };
  /** Jobs left alone because they are still queued or running (or a crashed daemon left them so). */
  unfinished: number;
  /** Inverted trajectories that no kept job uses and nothing wrote for `olderThanDays`. */
  trajectories: { count: number; bytes: number };
  /** Obsolete cache folders (see OBSOLETE_CACHES), relative to the data folder. */
  caches: { folders: string[]; bytes: number };
  /** Everything together; files that are hard links to files elsewhere free nothing and count 0. */
  bytes: number;
}

/**
 * Applies the result retention to a data folder: finished jobs older than the cutoff, the
 * trajectories only they used, and caches of earlier versions. Queued and running jobs are never
 * touched. Without `store` (the `styleset prune` command) the folder is read from disk, so it is
 * safe next to a running daemon: a job folder disappears in one rename, and the daemon treats a
 * job whose folder is gone as not found (JobStore.get).
 */
export async function pruneDataFolder(options: PruneOptions): Promise<PruneReport> {
  const { dataDir, olderThanDays, store, dryRun = false, fs = nodeFileSystem, warn = () => {} } = options;
  const now = options.now ?? Date.now();
  const jobsDir = join(dataDir, 'jobs');
  const forever = olderThanDays === 0;
  const cutoff = now - olderThanDays * DAY_MS;

  const records: JobRecord[] = store?.list() ?? (await readJobRecords(fs, jobsDir, warn));
  const expired = forever ? [] : records.filter((record) => jobExpired(record, cutoff));
  const gone = new Set(expired.map((record) => record.id));
  const kept = records.filter((record) => !gone.has(record.id));
  const jobs = { count: expired.length, bytes: 0, ids: expired.map((record) => record.id) };
  if (dryRun) {
    for (const record of expired) jobs.bytes += await freedBytes(fs, join(jobsDir, record.id));
  } else if (store !== undefined) {
    const pruned = await store.prune(cutoff);
    Object.assign(jobs, { count: pruned.ids.length, bytes: pruned.bytes, ids: pruned.ids });
  } else {
    for (const record of expired) jobs.bytes += await removeJobFolder(fs, jobsDir, record.id);
  }
  if (!dryRun) jobs.bytes += await sweepPrunedFolders(fs, jobsDir);

  const used = new Set(kept.flatMap((record) => (record.trajectoryKey === undefined ? [] : [record.trajectoryKey])));
  const trajectories = forever ? { count: 0, bytes: 0 } : await pruneTrajectories(fs, join(dataDir, 'trajectories'), used, cutoff, dryRun);

  const caches = { folders: [] as string[], bytes: 0 };
  for (const name of OBSOLETE_CACHES) {
    const dir = join(dataDir, name);
    if (!fs.exists(dir)) continue;
    caches.folders.push(name);
    caches.bytes += await freedBytes(fs, dir);
    if (!dryRun) await fs.rm(dir, { recursive: true, force: true });
  }

  return {
    olderThanDays,
    ...(forever ? {} : { cutoff: new Date(cutoff).toISOString() }),
    dryRun,
    jobs,
    unfinished: records.filter((record) => record.state === 'queued' || record.state === 'running').length,
    trajectories,
    caches,
    bytes: jobs.bytes + trajectories.bytes + caches.bytes,
  };
}

/**
 * Trajectory entries (`<key>.npy`, `<key>.json`) that no kept job names and whose newest file is
 * older than the cutoff. An entry the engine finds again for the same image is reused without
 * being rewritten, but every job that uses it names it, so a kept job keeps it.
 */
async function pruneTrajectories(fs: FileSystem, dir: string, used: Set<string>, cutoff: number, dryRun: boolean): Promise<{ count: number; bytes: number }> {
  const byKey = new Map<string, string[]>();
  for (const entry of await fs.readdir(dir).catch(() => [])) {
    if (entry.isDirectory()) continue;
    const key = entry.name.split('.')[0];
    byKey.set(key, [...(byKey.get(key) ?? []), join(dir, entry.name)]);
  }
  let count = 0;
  let bytes = 0;
  for (const [key, files] of byKey) {
    if (used.has(key)) continue;
    const infos = await Promise.all(files.map((file) => fs.stat(file).catch(() => undefined)));
    if (infos.some((info) => info === undefined || info.mtimeMs >= cutoff)) continue;
    count += 1;
    for (const file of files) {
      bytes += await freedBytes(fs, file);
      if (!dryRun) await fs.rm(file, { force: true });
    }
  }
  return { count, bytes };
}
