import { chmod, link, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrajectoryStore } from '../../src/pipeline/trajectory-store';
import { StylesetClient } from '../../src/server/client';
import { startDaemon } from '../../src/server/daemon';
import type { DaemonEvent } from '../../src/server/events';
import { readToken } from '../../src/config/token';
import { FakeEngine } from './support/fake-engine';
import { collect } from './support/harness';

const mode = async (path: string) => (await stat(path)).mode & 0o777;

/** A folder as an older version or a 022 umask left it: others may read and enter it. */
async function openFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, 0o755);
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-folders-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(process.platform === 'win32')('folder and file permissions', () => {
  it('makes existing config and data folders owner-only on start, says so, and writes job files owner-only', async () => {
    const configDir = join(root, 'config');
    const dataDir = join(root, 'data');
    for (const dir of [configDir, dataDir, join(dataDir, 'jobs'), join(dataDir, 'trajectories'), join(dataDir, 'model-cache')]) await openFolder(dir);
    // A weight file hard-linked into the cache is the user's model file: its mode is theirs.
    const weights = join(root, 'model.onnx_data');
    await writeFile(weights, 'weights');
    await chmod(weights, 0o644);
    await mkdir(join(dataDir, 'model-cache', 'unet-abc'));
    await link(weights, join(dataDir, 'model-cache', 'unet-abc', 'model.onnx_data'));

    const events: DaemonEvent[] = [];
    const daemon = await startDaemon({ engine: new FakeEngine(), dataDir, configDir, port: 0, onEvent: (event) => events.push(event) });
    try {
      for (const dir of [configDir, dataDir, join(dataDir, 'jobs'), join(dataDir, 'trajectories'), join(dataDir, 'model-cache')]) {
        expect(await mode(dir), dir).toBe(0o700);
      }
      const warnings = events.flatMap((e) => (e.type === 'warning' ? [e.message] : []));
      expect(warnings).toEqual(
        expect.arrayContaining([
          `${configDir} was readable by other users (mode 0755); it is now 0700, owner only`,
          `${dataDir} was readable by other users (mode 0755); it is now 0700, owner only`,
          `${join(dataDir, 'trajectories')} was readable by other users (mode 0755); it is now 0700, owner only`,
        ]),
      );
      // Files are left as they are: the folder keeps others out, and the link is the user's own file.
      expect(await mode(weights)).toBe(0o644);

      const client = await StylesetClient.connect({ url: daemon.url, token: await readToken(configDir) });
      const job = await client.submit({ kind: 'set', prompts: ['a', 'b'] });
      await collect(job);
      await client.close();
      const jobDir = join(dataDir, 'jobs', job.jobId);
      expect(await mode(jobDir)).toBe(0o700);
      expect((await readdir(jobDir)).sort()).toEqual(['00.png', '01.png', 'job.json']);
      for (const file of await readdir(jobDir)) expect(await mode(join(jobDir, file)), file).toBe(0o600);
      expect(await mode(join(configDir, 'token'))).toBe(0o600);
    } finally {
      await daemon.close();
    }

    // A second start finds nothing to change and says nothing.
    const quiet: DaemonEvent[] = [];
    await (await startDaemon({ engine: new FakeEngine(), dataDir, configDir, port: 0, onEvent: (event) => quiet.push(event) })).close();
    expect(quiet.filter((e) => e.type === 'warning')).toEqual([]);
  });

  it('creates missing folders owner-only', async () => {
    const configDir = join(root, 'a', 'config');
    const dataDir = join(root, 'b', 'data');
    await (await startDaemon({ engine: new FakeEngine(), dataDir, configDir, port: 0 })).close();
    for (const dir of [configDir, dataDir, join(dataDir, 'jobs')]) expect(await mode(dir), dir).toBe(0o700);
  });

  it('keeps inverted trajectories owner-only', async () => {
    const store = new TrajectoryStore(join(root, 'data', 'trajectories'));
    const key = 'f'.repeat(32);
    const meta = { key, prompt: 'a fox', steps: 2, guidance: 1, width: 8, height: 8, unetPath: '/m/unet/model.onnx' };
    await store.save(meta, { data: new Float32Array(4), dims: [1, 4, 1, 1] });
    expect(await mode(join(root, 'data'))).toBe(0o700);
    expect(await mode(join(root, 'data', 'trajectories'))).toBe(0o700);
    for (const file of await readdir(join(root, 'data', 'trajectories'))) expect(await mode(join(root, 'data', 'trajectories', file)), file).toBe(0o600);
  });
});
