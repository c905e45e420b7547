import { describe, expect, it } from 'vitest';
import type { EngineResult } from '../../src/engine/engine';
import { JobStore, type JobRecord } from '../../src/server/job-store';
import { writeFileAtomic } from '../../src/storage';
import { fakePng } from './support/fake-engine';
import { Crash, CrashFileSystem } from './support/file-systems';

const DATA = '/data';
const ID = 'a'.repeat(24);
const PROMPTS = ['a star', 'a moon', 'a house'];

/** Each image different in content and in size, so a wrong or cut file cannot pass for the right one. */
const pngs = PROMPTS.map((_, i) => fakePng(8 * (i + 1), 8, 100 + i));

function newRecord(): JobRecord {
  return {
    id: ID,
    kind: 'set',
    state: 'queued',
    owner: { tokenHash: 'hash', clientId: 'c1' },
    prompts: PROMPTS,
    options: { model: 'tiny', seed: 100 } as JobRecord['options'],
    count: PROMPTS.length,
    results: [],
    timings: { createdAt: Date.now() },
  };
}

function result(index: number): EngineResult {
  return { index, prompt: PROMPTS[index], seed: 100 + index, width: 8 * (index + 1), height: 8, png: pngs[index], latents: { data: new Float32Array(1), dims: [1, 1, 1, 1] } };
}

/** What the store confirmed before the crash: what must be there afterwards. */
interface Confirmed {
  accepted: boolean;
  results: number[];
  done: boolean;
}

/** A job's life as the daemon drives the store: queued, running, three images, done. */
async function runJob(fs: CrashFileSystem, confirmed: Confirmed): Promise<void> {
  const { store } = await JobStore.open(DATA, () => {}, { fs });
  const record = newRecord();
  await store.save(record);
  confirmed.accepted = true;
  record.state = 'running';
  await store.save(record);
  for (const index of PROMPTS.keys()) {
    await store.writeResult(record, result(index));
    confirmed.results.push(index);
  }
  record.state = 'done';
  await store.save(record);
  confirmed.done = true;
}

/** Runs the job, killing the process at operation `crashAt`, then power-cuts if asked, and reopens the store over what is left. */
async function crashAndReopen(crashAt: number, powerCut: boolean) {
  const fs = new CrashFileSystem();
  const confirmed: Confirmed = { accepted: false, results: [], done: false };
  fs.crashAt(crashAt);
  await runJob(fs, confirmed).catch((error: unknown) => {
    if (!(error instanceof Crash)) throw error;
  });
  fs.revive();
  if (powerCut) fs.powerCut();
  const onDisk = await listedOnDisk(fs);
  const warnings: string[] = [];
  const { store } = await JobStore.open(DATA, (message) => warnings.push(message), { fs });
  return { fs, store, confirmed, warnings, onDisk };
}

/** The images job.json lists as the crash left it, before any repair on opening, and what their files hold. */
async function listedOnDisk(fs: CrashFileSystem): Promise<{ index: number; bytes?: Uint8Array }[]> {
  const dir = `${DATA}/jobs/${ID}`;
  let record: JobRecord;
  try {
    record = JSON.parse(new TextDecoder().decode(await fs.readFile(`${dir}/job.json`))) as JobRecord;
  } catch {
    return [];
  }
  const listed = [];
  for (const { index } of record.results) {
    listed.push({ index, bytes: await fs.readFile(`${dir}/${String(index).padStart(2, '0')}.png`).catch(() => undefined) });
  }
  return listed;
}

/** Operations of one whole, uninterrupted job, the store's opening included. */
async function operationsOfAJob(): Promise<number> {
  const fs = new CrashFileSystem();
  await runJob(fs, { accepted: false, results: [], done: false });
  return fs.operations;
}

async function checkInvariants({ fs, store, confirmed, onDisk }: Awaited<ReturnType<typeof crashAndReopen>>, where: string): Promise<void> {
  // On disk, before the store looks at it: the record lists only images that are there, whole.
  for (const { index, bytes } of onDisk) expect(bytes && Buffer.from(bytes), `${where}: image ${index} as job.json lists it`).toEqual(Buffer.from(pngs[index]));
  const record = store.get(ID);
  if (confirmed.accepted) expect(record, `${where}: an accepted job is still there`).toBeDefined();
  if (record === undefined) return;
  const listed = record.results.map((r) => r.index);
  // What the store confirmed is there, and everything listed is there whole: nothing cut short is served.
  for (const index of confirmed.results) expect(listed, `${where}: confirmed image ${index}`).toContain(index);
  for (const index of listed) expect(Buffer.from(await store.readResult(record, index)), `${where}: image ${index}`).toEqual(Buffer.from(pngs[index]));
  if (confirmed.done) expect(record.state, where).toBe('done');
  else expect(record.state, where).toMatch(/^(interrupted|done)$/);
  expect(fs.files(`${DATA}/jobs`).filter((file) => file.endsWith('.tmp')), `${where}: drafts are swept`).toEqual([]);
}

describe('results survive a crash at any moment', () => {
  it('a process killed at any operation leaves every listed image whole and every confirmed one listed', async () => {
    const total = await operationsOfAJob();
    expect(total).toBeGreaterThan(60);
    for (let n = 1; n <= total; n++) await checkInvariants(await crashAndReopen(n, false), `killed at operation ${n} of ${total}`);
  });

  it.skipIf(process.platform === 'win32')('a power cut at any operation loses nothing the store confirmed', async () => {
    const total = await operationsOfAJob();
    for (let n = 1; n <= total + 1; n++) await checkInvariants(await crashAndReopen(n, true), `power cut at operation ${n} of ${total}`);
  });

  it('a process killed while writing an image leaves no part of it under its name, and keeps the images before it', async () => {
    const total = await operationsOfAJob();
    // Find the write of image 01 in an uninterrupted run, then kill the process exactly there.
    const probe = new CrashFileSystem();
    await runJob(probe, { accepted: false, results: [], done: false });
    const write = probe.log.findIndex(({ op, path }) => op === 'write' && /\/01\.png\.[0-9a-f]+\.tmp$/.test(path));
    expect(write).toBeGreaterThan(0);
    expect(write).toBeLessThan(total);
    const after = await crashAndReopen(write + 1, false);
    expect(after.confirmed.results).toEqual([0]);
    const record = after.store.get(ID)!;
    expect(record).toMatchObject({ state: 'interrupted', results: [{ index: 0, bytes: pngs[0].length }] });
    expect(after.fs.files(`${DATA}/jobs/${ID}`).sort()).toEqual([`${DATA}/jobs/${ID}/00.png`, `${DATA}/jobs/${ID}/job.json`]);
  });

  it('a record listing an image the disk lost is repaired on opening, with a warning, and never serves it', async () => {
    const fs = new CrashFileSystem();
    await runJob(fs, { accepted: false, results: [], done: false });
    await fs.rm(`${DATA}/jobs/${ID}/01.png`, {});
    const handle = await fs.open(`${DATA}/jobs/${ID}/02.png.cut.tmp`, 'wx');
    await handle.writeFile(pngs[2].subarray(0, 10));
    await handle.close();
    await fs.rename(`${DATA}/jobs/${ID}/02.png.cut.tmp`, `${DATA}/jobs/${ID}/02.png`);
    const warnings: string[] = [];
    const { store } = await JobStore.open(DATA, (message) => warnings.push(message), { fs });
    expect(store.get(ID)?.results.map((r) => r.index)).toEqual([0]);
    expect(warnings).toEqual([
      `job ${ID}: image 1 (${DATA}/jobs/${ID}/01.png) is missing; it is no longer listed`,
      `job ${ID}: image 2 (${DATA}/jobs/${ID}/02.png) is 10 bytes, not ${pngs[2].length}; it is no longer listed`,
    ]);
    // The repair is stored: a second opening finds nothing to warn about.
    const again: string[] = [];
    await JobStore.open(DATA, (message) => again.push(message), { fs });
    expect(again).toEqual([]);
  });
});

describe('a stored image changed under a running store', () => {
  it('is refused, not served, when its size is not the one stored', async () => {
    const fs = new CrashFileSystem();
    await runJob(fs, { accepted: false, results: [], done: false });
    const { store } = await JobStore.open(DATA, () => {}, { fs });
    const record = store.get(ID)!;
    const file = `${DATA}/jobs/${ID}/01.png`;
    await fs.rm(file, {});
    const handle = await fs.open(file, 'wx');
    await handle.writeFile(pngs[1].subarray(0, 30));
    await handle.close();
    await expect(store.readResult(record, 1)).rejects.toThrow(`${file} is 30 bytes, not the ${pngs[1].length} it was stored with`);
    await fs.rm(file, {});
    await expect(store.readResult(record, 1)).rejects.toMatchObject({ code: 'job_not_found', field: 'jobId' });
    expect(Buffer.from(await store.readResult(record, 0))).toEqual(Buffer.from(pngs[0]));
  });
});

describe('an atomic write', () => {
  it('writes a draft, flushes it, renames it over the name, then flushes the folder, in that order', async () => {
    const fs = new CrashFileSystem();
    await fs.mkdir('/d', { recursive: true });
    const start = fs.log.length;
    await writeFileAtomic(fs, '/d/file.png', pngs[0]);
    const ops = fs.log.slice(start).map(({ op, path }) => `${op} ${path.replace(/\.[0-9a-f]{8}\.tmp$/, '.DRAFT')}`);
    expect(ops).toEqual([
      'open wx /d/file.png.DRAFT',
      'write /d/file.png.DRAFT',
      'sync /d/file.png.DRAFT',
      'close /d/file.png.DRAFT',
      'rename /d/file.png',
      'open r /d',
      'sync /d',
      'close /d',
    ]);
  });
});
