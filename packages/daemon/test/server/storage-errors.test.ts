import { join } from 'node:path';
import { PROTOCOL_VERSION } from '@styleset/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { Received } from '../../src/server/client';
import { startDaemon } from '../../src/server/daemon';
import { nodeFileSystem } from '../../src/storage';
import { FakeEngine, fakePng } from './support/fake-engine';
import { faultyFileSystem } from './support/file-systems';
import { collect, ofType, TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test?.close();
});

/** A data folder whose disk fills up, or turns read-only, when the test says so. */
function switchableDisk() {
  const disk = { failure: undefined as string | undefined };
  const fs = faultyFileSystem(nodeFileSystem, (op) => (disk.failure !== undefined && (op === 'open wx' || op === 'write' || op === 'mkdir') ? disk.failure : undefined));
  return { disk, fs };
}

describe('a data folder that runs out of space', () => {
  it('fails the job with disk_full naming the folder and what to do, keeps the images stored before, and goes on once there is space', async () => {
    const { disk, fs } = switchableDisk();
    test = await TestDaemon.start({ engine: { holdBeforeImage: 1 }, daemon: { fileSystem: fs } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: ['a', 'b', 'c'], options: { seed: 7 } });
    const events = job[Symbol.asyncIterator]();
    const seen: Received[] = [];
    while (seen.at(-1)?.message.type !== 'result') seen.push((await events.next()).value as Received);
    disk.failure = 'ENOSPC';
    test.engine.release();
    for (let item = await events.next(); !item.done; item = await events.next()) seen.push(item.value);

    const dataDir = test.dataDir;
    expect(seen.at(-1)?.message).toEqual({
      v: PROTOCOL_VERSION,
      type: 'job_error',
      id: expect.any(String),
      jobId: job.jobId,
      code: 'disk_full',
      message: `the data folder ${dataDir} is full (ENOSPC, no space left on its disk, writing ${join('jobs', job.jobId, '01.png')}): free space on that disk, or move the data folder with --data-dir or STYLESET_DATA_DIR; results already stored are kept`,
    });
    expect(ofType(seen, 'result').map((r) => r.message.index)).toEqual([0]);
    // The finished image is still served, whole.
    const { results, status } = await client.getResults(job.jobId);
    expect(results.map((r) => Buffer.from(r.bytes!))).toEqual([Buffer.from(fakePng(64, 64, 7))]);
    expect(status).toMatchObject({ state: 'error', completed: 1, error: { code: 'disk_full' } });

    // A submission while the disk is full is refused with the same code, echoing its id.
    await expect(client.submit({ kind: 'set', prompts: ['d'] })).rejects.toMatchObject({
      code: 'disk_full',
      message: expect.stringMatching(new RegExp(`^the data folder ${dataDir.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')} is full \\(ENOSPC, no space left on its disk, writing jobs.[0-9a-f]{24}.job\\.json\\)`)),
    });
    expect(test.engine.jobs).toHaveLength(1);

    disk.failure = undefined;
    expect((await collect(await client.submit({ kind: 'set', prompts: ['e'] }))).at(-1)?.message.type).toBe('done');

    // After a restart the failed job is there with its image: its last stored record said running.
    await test.restart();
    const again = await test.client();
    expect(await again.getStatus(job.jobId)).toMatchObject({ state: 'interrupted', completed: 1 });
    expect((await again.getResults(job.jobId)).results.map((r) => Buffer.from(r.bytes!))).toEqual([Buffer.from(fakePng(64, 64, 7))]);
  });
});

describe('a data folder the daemon cannot write', () => {
  it.each([
    ['EROFS', 'read-only file system'],
    ['EACCES', 'permission denied'],
  ])('refuses a submission with storage_unwritable on %s, naming the folder', async (code, words) => {
    const { disk, fs } = switchableDisk();
    test = await TestDaemon.start({ daemon: { fileSystem: fs } });
    disk.failure = code;
    const client = await test.client();
    const error = await client.submit({ kind: 'set', prompts: ['a'] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'storage_unwritable' });
    expect((error as Error).message).toMatch(
      new RegExp(`^cannot write in the data folder .* \\(${code}, ${words}, writing jobs.[0-9a-f]{24}.job\\.json\\): make it writable for the user running the daemon, or move the data folder with --data-dir or STYLESET_DATA_DIR$`),
    );
    expect((error as Error).message).toContain(test.dataDir);
  });

  it('does not start on a data folder it cannot write, and says which', async () => {
    test = await TestDaemon.start();
    const fs = faultyFileSystem(nodeFileSystem, (op) => (op === 'mkdir' ? 'EACCES' : undefined));
    const dataDir = join(test.root, 'elsewhere');
    await expect(startDaemon({ engine: new FakeEngine(), dataDir, configDir: test.configDir, port: 0, fileSystem: fs })).rejects.toMatchObject({
      code: 'storage_unwritable',
      message: expect.stringContaining(`cannot write in the data folder ${dataDir} (EACCES, permission denied, writing jobs)`),
    });
  });
});
