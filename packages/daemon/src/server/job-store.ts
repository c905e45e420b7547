import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ERROR_CODES, JOB_KINDS, JOB_STATES, PHASES, type JobState, type VectorSummary } from '@styleset/protocol';
import * as z from 'zod';
import type { EngineJob, EngineResult } from '../engine/engine';
import { StylesetError } from '../errors';
import { DRAFT_SUFFIX, freedBytes, makeFolder, nodeFileSystem, storageError, writeFileAtomic, type FileSystem } from '../storage';
import { RequestError } from './request-error';

const resultSchema = z.object({
  index: z.int().min(0),
  prompt: z.string(),
  seed: z.number(),
  width: z.int(),
  height: z.int(),
  /** The file's size as stored: a file of another size is not served. Absent in records of older versions. */
  bytes: z.int().min(1).optional(),
  /** Absent: a PNG (every result of records from before vector output). */
  format: z.literal('svg').optional(),
  /** Sent with the result: why it is not quite what was asked. */
  warning: z.string().optional(),
});

/** One stored result: a PNG, or an SVG (`format: 'svg'`), of one image. */
export type StoredResult = z.infer<typeof resultSchema>;

const recordSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  state: z.enum(JOB_STATES),
  /** Who may see it: the hash of the pairing token it came with, and the connection that sent it. */
  owner: z.object({ tokenHash: z.string(), clientId: z.string() }),
  prompts: z.array(z.string()),
  referencePrompt: z.string().optional(),
  inversionJobId: z.string().optional(),
  /** A set in a saved style: its name, and the index in the style's set of the first prompt. */
  style: z.string().optional(),
  firstIndex: z.int().optional(),
  /** What the job ran with, defaults filled in: enough to remake any of its images. */
  options: z.custom<EngineJob['options']>(
    (value) => typeof value === 'object' && value !== null && typeof (value as { model?: unknown }).model === 'string',
  ),
  count: z.int().min(0),
  /** Results on disk, in the order they were stored and announced: PNGs as decoded, then SVGs. */
  results: z.array(resultSchema),
  /** What `done` says of the SVGs (palettes, images without one), and the time they took. */
  vector: z
    .object({
      summary: z.custom<VectorSummary>((value) => typeof value === 'object' && value !== null && Array.isArray((value as { palettes?: unknown }).palettes)),
      ms: z.number(),
    })
    .optional(),
  trajectoryKey: z.string().optional(),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string(), field: z.string().optional() }).optional(),
  /** Epoch milliseconds; `phases` in milliseconds as the engine measured them. */
  timings: z.object({
    createdAt: z.number(),
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
    phases: z.partialRecord(z.enum(PHASES), z.number()).optional(),
  }),
});

export type JobRecord = z.infer<typeof recordSchema>;

/** A record read from elsewhere than this store's folder (team mode's Redis), checked as job.json is. */
export function parseJobRecord(value: unknown): JobRecord {
  return recordSchema.parse(value);
}

const RECORD_FILE = 'job.json';
/** A job folder being deleted is first renamed so: never read as a job, swept if a crash interrupts the deletion. */
const PRUNED_PREFIX = '.pruned-';

export interface JobStoreOptions {
  /** Default: the real one; tests pass one that fails on cue. */
  fs?: FileSystem;
}

/** Queued and running jobs are still being written; every other state is final. */
export function isFinished(state: JobState): boolean {
  return state !== 'queued' && state !== 'running';
}

/**
 * The data folder's `jobs/<id>/job.json` plus `jobs/<id>/<index>.png` (and `<index>.svg`). Every
 * file is written to a draft, flushed, renamed and its folder flushed (see writeFileAtomic), and a
 * result's file is on disk before the record that lists it, so a crash or a power cut leaves the old file or the new
 * one and a record never lists an image it does not have. Paths are built only from ids this
 * store made and from indices, never from client input.
 */
export class JobStore {
  private readonly writes = new Map<string, Promise<void>>();
  /** Job folders made (and flushed into jobs/) by this store, or found on disk. */
  private readonly folders = new Set<string>();

  private constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
    private readonly records: Map<string, JobRecord>,
  ) {
    for (const id of records.keys()) this.folders.add(id);
  }

  /**
   * Loads every job record. Jobs the last daemon left queued or running cannot resume (their
   * inputs were in memory): they become `interrupted`, and are returned. A listed image whose
   * file is missing or not of its stored size (a file system that lost it, a hand-edited folder)
   * is dropped from its record with a warning, so that nothing points at a file it cannot serve.
   */
  static async open(
    dataDir: string,
    warn: (message: string) => void,
    { fs = nodeFileSystem }: JobStoreOptions = {},
  ): Promise<{ store: JobStore; interrupted: JobRecord[] }> {
    const jobsDir = join(dataDir, 'jobs');
    try {
      await makeFolder(fs, jobsDir);
    } catch (error) {
      throw storageError(error, dataDir, jobsDir);
    }
    const records = new Map<string, JobRecord>();
    const repaired: JobRecord[] = [];
    for (const record of await readJobRecords(fs, jobsDir, warn, { removeDrafts: true })) {
      records.set(record.id, record);
      if (await dropMissingResults(fs, join(jobsDir, record.id), record, warn)) repaired.push(record);
    }
    const store = new JobStore(fs, dataDir, records);
    const interrupted = [...records.values()].filter((r) => !isFinished(r.state));
    for (const record of interrupted) {
      const was = record.state;
      record.state = 'interrupted';
      record.error = { code: 'interrupted', message: `the daemon stopped while the job was ${was}; it will not resume` };
      record.timings.finishedAt ??= Date.now();
    }
    await Promise.all([...new Set([...interrupted, ...repaired])].map((record) => store.save(record)));
    return { store, interrupted };
  }

  static newId(): string {
    return randomBytes(12).toString('hex');
  }

  /**
   * The job, if it is still stored. A finished job's folder may be deleted under a running daemon
   * (`styleset prune`); the record is then forgotten, so the job is not found rather than served
   * with missing files.
   */
  get(id: string): JobRecord | undefined {
    const record = this.records.get(id);
    if (record === undefined || !isFinished(record.state) || this.writes.has(id)) return record;
    if (this.fs.exists(this.path(id, RECORD_FILE))) return record;
    this.records.delete(id);
    this.folders.delete(id);
    return undefined;
  }

  /** Writes job.json. Writes of one job land in call order, each with the record as it was then. */
  save(record: JobRecord): Promise<void> {
    const json = `${JSON.stringify(record, null, 2)}\n`;
    this.records.set(record.id, record);
    const previous = this.writes.get(record.id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.write(record.id, RECORD_FILE, json));
    this.writes.set(record.id, write);
    const forget = () => {
      if (this.writes.get(record.id) === write) this.writes.delete(record.id);
    };
    write.then(forget, forget);
    return write;
  }

  /** A PNG as the engine decoded it, then the record that lists it: once this resolves the image survives a crash. */
  async writeResult(record: JobRecord, result: Pick<EngineResult, 'index' | 'prompt' | 'seed' | 'width' | 'height' | 'png' | 'warning'>): Promise<StoredResult> {
    const { index, prompt, seed, width, height, warning } = result;
    const [stored] = await this.writeResults(record, [{ entry: { index, prompt, seed, width, height, ...(warning !== undefined && { warning }) }, bytes: result.png }]);
    return stored;
  }

  /**
   * The files, then the record that lists them (after those listed before), and `update`'s
   * changes to it: once this resolves the results survive a crash, and so does what `update` set.
   * Returns their entries, as listed.
   */
  async writeResults(record: JobRecord, results: ReadonlyArray<{ entry: Omit<StoredResult, 'bytes'>; bytes: Uint8Array }>, update?: (record: JobRecord) => void): Promise<StoredResult[]> {
    for (const { entry, bytes } of results) await this.write(record.id, resultFile(entry), bytes);
    const added = results.map(({ entry, bytes }) => ({ ...entry, bytes: bytes.length }));
    const replaced = (r: StoredResult) => added.some((a) => a.index === r.index && a.format === r.format);
    record.results = [...record.results.filter((r) => !replaced(r)), ...added];
    update?.(record);
    await this.save(record);
    return added;
  }

  /** A stored result, exactly as it was stored: a missing or changed file is an error, never served. */
  async readResult(record: JobRecord, which: StoredResult | number): Promise<Uint8Array> {
    const result = typeof which === 'number' ? record.results.find((r) => r.index === which && r.format === undefined) : which;
    if (result === undefined) throw new StylesetError('internal', `job ${record.id} has no PNG of image ${String(which)}`);
    const file = this.path(record.id, resultFile(result));
    let bytes: Uint8Array;
    try {
      bytes = await this.fs.readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new RequestError('job_not_found', `job ${record.id} is no longer in the data folder (pruned while it was read)`, 'jobId');
    }
    if (result.bytes !== undefined && bytes.length !== result.bytes) {
      throw new StylesetError('internal', `${file} is ${bytes.length} bytes, not the ${result.bytes} it was stored with: it was changed or damaged on disk`);
    }
    return bytes;
  }

  /** For a job that was never accepted after all. */
  async remove(record: JobRecord): Promise<void> {
    this.records.delete(record.id);
    await this.writes.get(record.id)?.catch(() => undefined);
    this.folders.delete(record.id);
    await this.fs.rm(join(this.jobsDir, record.id), { recursive: true, force: true });
  }

  /**
   * Deletes finished jobs that ended before `cutoffMs` (epoch ms), and forgets them. Queued and
   * running jobs, and jobs with a write in flight, are never touched.
   */
  async prune(cutoffMs: number): Promise<{ ids: string[]; bytes: number }> {
    const ids: string[] = [];
    let bytes = 0;
    for (const record of [...this.records.values()]) {
      if (!jobExpired(record, cutoffMs) || this.writes.has(record.id)) continue;
      this.records.delete(record.id);
      this.folders.delete(record.id);
      bytes += await removeJobFolder(this.fs, this.jobsDir, record.id);
      ids.push(record.id);
    }
    return { ids, bytes };
  }

  /** Every job record it holds (for retention: what stays references what). */
  list(): JobRecord[] {
    return [...this.records.values()];
  }

  private get jobsDir(): string {
    return join(this.dataDir, 'jobs');
  }

  private async write(id: string, file: string, data: string | Uint8Array): Promise<void> {
    const path = this.path(id, file);
    try {
      if (!this.folders.has(id)) {
        await makeFolder(this.fs, join(this.jobsDir, id));
        this.folders.add(id);
      }
      await writeFileAtomic(this.fs, path, data);
    } catch (error) {
      throw storageError(error, this.dataDir, path);
    }
  }

  private path(id: string, file: string): string {
    return join(this.jobsDir, id, file);
  }
}

export function resultFile({ index, format }: Pick<StoredResult, 'index' | 'format'>): string {
  return `${String(index).padStart(2, '0')}.${format ?? 'png'}`;
}

/** A finished job that ended (or, for a record without an end, was made) before the cutoff. */
export function jobExpired(record: JobRecord, cutoffMs: number): boolean {
  return isFinished(record.state) && (record.timings.finishedAt ?? record.timings.createdAt) < cutoffMs;
}

/**
 * The records under `jobsDir`, each in a folder named by its id. Read-only unless `removeDrafts`
 * (only a store that owns the folder may delete another process's drafts).
 */
export async function readJobRecords(
  fs: FileSystem,
  jobsDir: string,
  warn: (message: string) => void,
  { removeDrafts = false } = {},
): Promise<JobRecord[]> {
  const records: JobRecord[] = [];
  let entries;
  try {
    entries = await fs.readdir(jobsDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return records;
    throw error;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(jobsDir, entry.name);
    if (removeDrafts) {
      // Drafts are what a crash mid-write leaves behind; the file they were for is intact.
      for (const name of (await fs.readdir(dir)).map((e) => e.name)) {
        if (name.endsWith(DRAFT_SUFFIX)) await fs.rm(join(dir, name), { force: true });
      }
    }
    const record = await loadRecord(fs, join(dir, RECORD_FILE), warn);
    if (record === undefined) continue;
    if (record.id !== entry.name) {
      warn(`skipping ${dir}: its job.json is for job ${record.id}`);
      continue;
    }
    records.push(record);
  }
  return records;
}

async function loadRecord(fs: FileSystem, file: string, warn: (message: string) => void): Promise<JobRecord | undefined> {
  try {
    return recordSchema.parse(JSON.parse(new TextDecoder().decode(await fs.readFile(file))));
  } catch (error) {
    const why = error instanceof z.ZodError ? z.prettifyError(error).replaceAll('\n', ' ') : (error as Error).message;
    warn(`skipping ${file}: ${why}`);
    return undefined;
  }
}

/** Drops listed images whose file is gone or of another size; whether any was dropped. */
async function dropMissingResults(fs: FileSystem, dir: string, record: JobRecord, warn: (message: string) => void): Promise<boolean> {
  const kept: JobRecord['results'] = [];
  for (const result of record.results) {
    const file = join(dir, resultFile(result));
    const size = await fs.stat(file).then((info) => info.size, () => undefined);
    if (size !== undefined && size > 0 && (result.bytes === undefined || size === result.bytes)) {
      kept.push(result);
    } else {
      warn(`job ${record.id}: ${result.format === 'svg' ? 'the SVG of ' : ''}image ${result.index} (${file}) is ${size === undefined ? 'missing' : `${size} bytes, not ${result.bytes}`}; it is no longer listed`);
    }
  }
  if (kept.length === record.results.length) return false;
  record.results = kept;
  return true;
}

/**
 * Deletes a job's folder: first renamed out of the way (one step, so that nobody reads a job half
 * deleted), then removed. The bytes it freed (files with no other hard link).
 */
export async function removeJobFolder(fs: FileSystem, jobsDir: string, id: string): Promise<number> {
  const doomed = join(jobsDir, `${PRUNED_PREFIX}${id}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.rename(join(jobsDir, id), doomed);
  } catch (error) {
    // Pruned by another process meanwhile.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const bytes = await freedBytes(fs, doomed);
  await fs.rm(doomed, { recursive: true, force: true });
  return bytes;
}

/** Folders a crash left half deleted; their jobs were already gone. */
export async function sweepPrunedFolders(fs: FileSystem, jobsDir: string): Promise<number> {
  let bytes = 0;
  const entries = await fs.readdir(jobsDir).catch(() => []);
  for (const entry of entries) {
    if (!entry.name.startsWith(PRUNED_PREFIX)) continue;
    bytes += await freedBytes(fs, join(jobsDir, entry.name));
    await fs.rm(join(jobsDir, entry.name), { recursive: true, force: true });
  }
  return bytes;
}
