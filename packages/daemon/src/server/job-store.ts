import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ERROR_CODES, JOB_KINDS, JOB_STATES, PHASES } from '@styleset/protocol';
import * as z from 'zod';
import type { EngineJob, EngineResult } from '../engine/engine';

const recordSchema = z.object({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  state: z.enum(JOB_STATES),
  /** Who may see it: the hash of the pairing token it came with, and the connection that sent it. */
  owner: z.object({ tokenHash: z.string(), clientId: z.string() }),
  prompts: z.array(z.string()),
  referencePrompt: z.string().optional(),
  inversionJobId: z.string().optional(),
  /** What the job ran with, defaults filled in: enough to remake any of its images. */
  options: z.custom<EngineJob['options']>(
    (value) => typeof value === 'object' && value !== null && typeof (value as { model?: unknown }).model === 'string',
  ),
  count: z.int().min(0),
  /** Images on disk, in the order they were produced. */
  results: z.array(
    z.object({ index: z.int().min(0), prompt: z.string(), seed: z.number(), width: z.int(), height: z.int() }),
  ),
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

const RECORD_FILE = 'job.json';

/**
 * The data folder: `jobs/<id>/job.json` plus `jobs/<id>/<index>.png`. Every file is written to a
 * draft, flushed and renamed, so a crash leaves the old file or the new one, never half of one.
 * Paths are built only from ids this store made and from indices, never from client input.
 */
export class JobStore {
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    private readonly jobsDir: string,
    private readonly records: Map<string, JobRecord>,
  ) {}

  /**
   * Loads every job record. Jobs the last daemon left queued or running cannot resume (their
   * inputs were in memory): they become `interrupted`, and are returned.
   */
  static async open(dataDir: string, warn: (message: string) => void): Promise<{ store: JobStore; interrupted: JobRecord[] }> {
    const jobsDir = join(dataDir, 'jobs');
    await mkdir(jobsDir, { recursive: true, mode: 0o700 });
    const records = new Map<string, JobRecord>();
    for (const entry of await readdir(jobsDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const record = await loadRecord(join(jobsDir, entry.name), warn);
      if (record === undefined) continue;
      if (record.id !== entry.name) {
        warn(`skipping ${join(jobsDir, entry.name)}: its job.json is for job ${record.id}`);
        continue;
      }
      records.set(record.id, record);
    }
    const store = new JobStore(jobsDir, records);
    const interrupted = [...records.values()].filter((r) => r.state === 'queued' || r.state === 'running');
    for (const record of interrupted) {
      const was = record.state;
      record.state = 'interrupted';
      record.error = { code: 'interrupted', message: `the daemon stopped while the job was ${was}; it will not resume` };
      record.timings.finishedAt ??= Date.now();
    }
    await Promise.all(interrupted.map((record) => store.save(record)));
    return { store, interrupted };
  }

  static newId(): string {
    return randomBytes(12).toString('hex');
  }

  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  /** Writes job.json. Writes of one job land in call order, each with the record as it was then. */
  save(record: JobRecord): Promise<void> {
    const json = `${JSON.stringify(record, null, 2)}\n`;
    this.records.set(record.id, record);
    const previous = this.writes.get(record.id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => writeAtomic(this.path(record.id, RECORD_FILE), json));
    this.writes.set(record.id, write);
    const forget = () => {
      if (this.writes.get(record.id) === write) this.writes.delete(record.id);
    };
    write.then(forget, forget);
    return write;
  }

  /** The PNG, then the record that lists it: once this resolves the image survives a crash. */
  async writeResult(record: JobRecord, result: EngineResult): Promise<void> {
    await writeAtomic(this.path(record.id, resultFile(result.index)), result.png);
    const { index, prompt, seed, width, height } = result;
    record.results = [...record.results.filter((r) => r.index !== index), { index, prompt, seed, width, height }];
    await this.save(record);
  }

  async readResult(record: JobRecord, index: number): Promise<Uint8Array> {
    return await readFile(this.path(record.id, resultFile(index)));
  }

  /** For a job that was never accepted after all. */
  async remove(record: JobRecord): Promise<void> {
    this.records.delete(record.id);
    await this.writes.get(record.id)?.catch(() => undefined);
    await rm(join(this.jobsDir, record.id), { recursive: true, force: true });
  }

  private path(id: string, file: string): string {
    return join(this.jobsDir, id, file);
  }
}

function resultFile(index: number): string {
  return `${String(index).padStart(2, '0')}.png`;
}

async function loadRecord(dir: string, warn: (message: string) => void): Promise<JobRecord | undefined> {
  // Drafts are what a crash mid-write leaves behind; the file they were for is intact.
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) await rm(join(dir, name), { force: true });
  }
  const file = join(dir, RECORD_FILE);
  try {
    return recordSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    const why = error instanceof z.ZodError ? z.prettifyError(error).replaceAll('\n', ' ') : (error as Error).message;
    warn(`skipping ${file}: ${why}`);
    return undefined;
  }
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const draft = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(draft, 'w', 0o600);
  try {
    await handle.writeFile(data);
    // Without the flush a power cut after the rename can leave an empty file under the final name.
    await handle.sync();
    await handle.close();
    await rename(draft, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(draft, { force: true });
    throw error;
  }
}
