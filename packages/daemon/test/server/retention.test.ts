import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerPrune } from '../../src/cli/commands/prune';
import { readToken } from '../../src/config/token';
import { StylesetClient } from '../../src/server/client';
import { startDaemon } from '../../src/server/daemon';
import type { DaemonEvent } from '../../src/server/events';
import type { JobRecord } from '../../src/server/job-store';
import { FakeEngine } from './support/fake-engine';
import { collect, TestDaemon } from './support/harness';

const DAY = 24 * 60 * 60 * 1000;

let root: string;
let dataDir: string;
let configDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-retention-'));
  dataDir = join(root, 'data');
  configDir = join(root, 'config');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A job folder as a daemon leaves it: job.json and `images` PNG files of distinct sizes. */
async function writeJob(id: string, state: JobRecord['state'], endedDaysAgo: number, extra: Partial<JobRecord> = {}, images = 2): Promise<void> {
  const ended = Date.now() - endedDaysAgo * DAY;
  const dir = join(dataDir, 'jobs', id);
  await mkdir(dir, { recursive: true });
  const results = Array.from({ length: images }, (_, index) => ({ index, prompt: `p${index}`, seed: index, width: 8, height: 8, bytes: 100 + index }));
  for (const { index, bytes } of results) await writeFile(join(dir, `0${index}.png`), Buffer.alloc(bytes, index));
  const finished = state !== 'queued' && state !== 'running';
  const record: JobRecord = {
    id,
    kind: 'set',
    state,
    owner: { tokenHash: 'h', clientId: 'c1' },
    prompts: results.map((r) => r.prompt),
    options: { model: 'tiny', seed: 0 } as JobRecord['options'],
    count: images,
    results,
    timings: { createdAt: ended - 1000, ...(finished && { finishedAt: ended }) },
    ...extra,
  };
  await writeFile(join(dir, 'job.json'), JSON.stringify(record));
}

/** Sum of the sizes of the files in a folder, measured here, independently of the code under test. */
async function folderSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

async function writeTrajectory(key: string, daysAgo: number): Promise<number> {
  const dir = join(dataDir, 'trajectories');
  await mkdir(dir, { recursive: true });
  const when = new Date(Date.now() - daysAgo * DAY);
  for (const [ext, size] of [['npy', 400], ['json', 40]] as const) {
    await writeFile(join(dir, `${key}.${ext}`), Buffer.alloc(size));
    await utimes(join(dir, `${key}.${ext}`), when, when);
  }
  return 440;
}

/** Runs `styleset prune` in this process; what it printed on stdout. */
async function prune(...args: string[]): Promise<string> {
  const program = new Command().name('styleset').exitOverride();
  registerPrune(program);
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['prune', '--data-dir', dataDir, '--config-dir', configDir, ...args], { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return out;
}

const key = (c: string) => c.repeat(32);
const id = (c: string) => c.repeat(24);

describe('styleset prune', () => {
  it('deletes finished jobs past the retention, the trajectories only they used, and obsolete caches; reports what it freed; --dry-run deletes nothing', async () => {
    await writeJob(id('a'), 'done', 40, { trajectoryKey: key('4') });
    await writeJob(id('b'), 'error', 35, {}, 1);
    await writeJob(id('c'), 'interrupted', 31, {}, 0);
    await writeJob(id('d'), 'done', 5, { trajectoryKey: key('1') });
    await writeJob(id('e'), 'queued', 40);
    await writeJob(id('f'), 'running', 40);
    await writeTrajectory(key('1'), 60); // old, but a kept job uses it
    const unused = await writeTrajectory(key('2'), 60);
    await writeTrajectory(key('3'), 1); // recent
    const onlyPruned = await writeTrajectory(key('4'), 60); // used only by a pruned job
    await mkdir(join(dataDir, 'unet-cache', 'entry'), { recursive: true });
    await writeFile(join(dataDir, 'unet-cache', 'entry', 'model.onnx'), Buffer.alloc(300));
    const weights = join(root, 'model.onnx_data');
    await writeFile(weights, Buffer.alloc(5000));
    await link(weights, join(dataDir, 'unet-cache', 'entry', 'model.onnx_data'));
    await mkdir(join(dataDir, 'jobs', `.pruned-${id('9')}-0000`));
    await writeFile(join(dataDir, 'jobs', `.pruned-${id('9')}-0000`, '00.png'), Buffer.alloc(70));

    const expired = [id('a'), id('b'), id('c')];
    let jobBytes = 0;
    for (const job of expired) jobBytes += await folderSize(join(dataDir, 'jobs', job));
    const expected = {
      dataDir,
      olderThanDays: 30,
      cutoff: expect.any(String),
      jobs: { count: 3, ids: [...expired].sort(), bytes: jobBytes },
      unfinished: 2,
      trajectories: { count: 2, bytes: unused + onlyPruned },
      // The hard link frees nothing: the weights are still the user's model file.
      caches: { folders: ['unet-cache'], bytes: 300 },
    };

    const dry = JSON.parse(await prune('--dry-run', '--json'));
    expect({ ...dry, jobs: { ...dry.jobs, ids: dry.jobs.ids.sort() } }).toEqual({ ...expected, dryRun: true, bytes: jobBytes + unused + onlyPruned + 300 });
    for (const job of expired) expect(existsSync(join(dataDir, 'jobs', job)), job).toBe(true);
    expect(existsSync(join(dataDir, 'unet-cache'))).toBe(true);

    const done = JSON.parse(await prune('--json'));
    // The half-deleted folder a crash left is swept too, and counted.
    expect({ ...done, jobs: { ...done.jobs, ids: done.jobs.ids.sort() } }).toEqual({
      ...expected,
      jobs: { ...expected.jobs, bytes: jobBytes + 70 },
      dryRun: false,
      bytes: jobBytes + 70 + unused + onlyPruned + 300,
    });
    expect((await readdir(join(dataDir, 'jobs'))).sort()).toEqual([id('d'), id('e'), id('f')]);
    expect((await readdir(join(dataDir, 'trajectories'))).sort()).toEqual([`${key('1')}.json`, `${key('1')}.npy`, `${key('3')}.json`, `${key('3')}.npy`]);
    expect(existsSync(join(dataDir, 'unet-cache'))).toBe(false);
    expect((await stat(weights)).size).toBe(5000);

    // Nothing left to do: a second run frees nothing.
    expect(JSON.parse(await prune('--json'))).toMatchObject({ jobs: { count: 0 }, bytes: 0 });
  });

  it('follows config.json: keepJobsDays 0 keeps every job; --older-than overrides it', async () => {
    await writeJob(id('a'), 'done', 400);
    await writeJob(id('d'), 'done', 5);
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ keepJobsDays: 0 }));
    const text = await prune();
    expect(text).toBe(`${dataDir}: jobs are kept forever (config "keepJobsDays": 0); pass --older-than DAYS to prune them\nfreed 0 B in all\n`);
    expect((await readdir(join(dataDir, 'jobs'))).sort()).toEqual([id('a'), id('d')]);
    const size = (await folderSize(join(dataDir, 'jobs', id('a')))) + (await folderSize(join(dataDir, 'jobs', id('d'))));
    // Between 1 and 2 KB: the two records and their 201-byte images.
    expect(size).toBeGreaterThan(1000);
    expect(size).toBeLessThan(2000);
    const kb = `${(size / 1000).toFixed(1)} KB`;
    expect(await prune('--older-than', '3')).toBe(`${dataDir}: deleted 2 finished job(s) older than 3 days (${kb})\nfreed ${kb} in all\n`);
    expect(await readdir(join(dataDir, 'jobs'))).toEqual([]);
    await expect(prune('--older-than', '0')).rejects.toThrow(/expected a number of days above 0, got "0"/);
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ keepJobsDays: -1 }));
    await expect(prune()).rejects.toThrow(`${join(configDir, 'config.json')}: keepJobsDays:`);
  });

  it('is safe next to a running daemon: the daemon no longer serves a job pruned under it, and keeps the rest', async () => {
    const test = await TestDaemon.start();
    try {
      dataDir = test.dataDir;
      configDir = test.configDir;
      const client = await test.client();
      const old = await client.submit({ kind: 'set', prompts: ['old'] });
      await collect(old);
      const kept = await client.submit({ kind: 'set', prompts: ['kept'] });
      await collect(kept);
      // Age the first job on disk, as a month would.
      const file = join(dataDir, 'jobs', old.jobId, 'job.json');
      const record = JSON.parse(await readFile(file, 'utf8')) as JobRecord;
      await writeFile(file, JSON.stringify({ ...record, timings: { ...record.timings, finishedAt: Date.now() - 40 * DAY } }));

      expect(JSON.parse(await prune('--json')).jobs.ids).toEqual([old.jobId]);
      await expect(client.getStatus(old.jobId)).rejects.toMatchObject({ code: 'job_not_found' });
      await expect(client.getResults(old.jobId)).rejects.toMatchObject({ code: 'job_not_found' });
      expect((await client.getResults(kept.jobId)).results.map((r) => r.message.prompt)).toEqual(['kept']);
      expect((await collect(await client.submit({ kind: 'set', prompts: ['new'] }))).at(-1)?.message.type).toBe('done');
    } finally {
      await test.close();
    }
  });
});

describe('the daemon\'s retention', () => {
  it('prunes expired jobs at start and keeps the rest', async () => {
    await writeJob(id('a'), 'done', 40);
    await writeJob(id('d'), 'done', 5);
    const size = await folderSize(join(dataDir, 'jobs', id('a')));
    const events: DaemonEvent[] = [];
    const daemon = await startDaemon({ engine: new FakeEngine(), dataDir, configDir, port: 0, onEvent: (event) => events.push(event) });
    try {
      await vi.waitFor(() => expect(events.find((e) => e.type === 'pruned')).toBeDefined(), { timeout: 10_000 });
      expect(events.filter((e) => e.type === 'pruned')).toEqual([{ type: 'pruned', olderThanDays: 30, jobs: 1, jobIds: [id('a')], trajectories: 0, caches: [], bytes: size }]);
      expect(await readdir(join(dataDir, 'jobs'))).toEqual([id('d')]);
    } finally {
      await daemon.close();
    }
  });

  it('prunes jobs that age while it runs, never a queued or running one', async () => {
    const engine = new FakeEngine();
    let offset = 0;
    const events: DaemonEvent[] = [];
    const daemon = await startDaemon({ engine, dataDir, configDir, port: 0, keepJobsDays: 30, retentionIntervalMs: 20, now: () => Date.now() + offset, onEvent: (event) => events.push(event) });
    const client = await StylesetClient.connect({ url: daemon.url, token: await readToken(configDir) });
    try {
      const finished = await client.submit({ kind: 'set', prompts: ['a'] });
      await collect(finished);
      engine.hold();
      const running = await client.submit({ kind: 'set', prompts: ['b'] });
      const queued = await client.submit({ kind: 'set', prompts: ['c'] });
      await vi.waitFor(async () => expect(await client.getStatus(running.jobId)).toMatchObject({ state: 'running' }), { timeout: 10_000 });

      offset = 31 * DAY;
      await vi.waitFor(() => expect(events.some((e) => e.type === 'pruned' && e.jobIds.includes(finished.jobId))).toBe(true), { timeout: 10_000 });
      await expect(client.getStatus(finished.jobId)).rejects.toMatchObject({ code: 'job_not_found' });
      expect(await client.getStatus(running.jobId)).toMatchObject({ state: 'running' });
      expect(await client.getStatus(queued.jobId)).toMatchObject({ state: 'queued' });
      expect((await readdir(join(dataDir, 'jobs'))).sort()).toEqual([running.jobId, queued.jobId].sort());
      const pruned = events.flatMap((e) => (e.type === 'pruned' ? e.jobIds : []));
      expect(pruned).not.toContain(running.jobId);
      expect(pruned).not.toContain(queued.jobId);

      engine.release();
      expect((await collect(running)).at(-1)?.message.type).toBe('done');
      expect((await collect(queued)).at(-1)?.message.type).toBe('done');
    } finally {
      await client.close();
      await daemon.close();
    }
  });
});
