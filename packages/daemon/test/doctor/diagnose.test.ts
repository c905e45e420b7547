import { readdirSync, statfsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { daemonFilePath } from '../../src/config/daemon-file';
import { diagnose } from '../../src/doctor';
import { defaultModelDir } from '../../src/model/default-model';
import { serviceBackend, type ServiceIo } from '../../src/service';

let root: string;
let dataDir: string;
let configDir: string;
let server: Server | undefined;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-doctor-'));
  dataDir = join(root, 'data');
  configDir = join(root, 'config');
});

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

/** A service manager that knows a registered unit that is not running. */
const stoppedUnit: ServiceIo = {
  run: async () => ({ code: 0, stdout: 'LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nUnitFileState=enabled\nExecMainStatus=1\n', stderr: '' }),
  writeFile: async () => {},
  mkdir: async () => {},
  remove: async () => {},
  exists: async () => true,
};

const options = () => ({
  dirs: { dataDir, configDir },
  cli: '/opt/styleset/bin/styleset.js',
  npxCache: false,
  service: { unavailable: 'not on this test' },
});

/** Every file's size under a folder, summed by a walk of its own. */
function filesBytes(dir: string): number {
  return (readdirSync(dir, { recursive: true }) as string[]).map((name) => statSync(join(dir, name))).filter((s) => s.isFile()).reduce((sum, s) => sum + s.size, 0);
}

describe('styleset doctor', () => {
  it('reports the embedded model with its size, folders with their modes and disk, and what the data folder holds', async () => {
    await mkdir(join(dataDir, 'jobs', 'a'), { recursive: true, mode: 0o700 });
    await chmod(dataDir, 0o700);
    await writeFile(join(dataDir, 'jobs', 'a', '00.png'), Buffer.alloc(1234));
    await mkdir(configDir, { mode: 0o700 });
    const d = await diagnose(options());
    expect(d.models).toEqual([{ id: 'default', source: 'embedded', dir: defaultModelDir(), bytes: filesBytes(defaultModelDir()), problem: undefined }]);
    expect(d.models[0].bytes).toBeGreaterThan(1e6);
    const disk = statfsSync(dataDir);
    expect(d.folders.data).toMatchObject({ path: dataDir, exists: true, mode: '0700', ownerOnly: true, ownedByMe: true, writable: true, totalBytes: disk.blocks * disk.bsize });
    expect(d.folders.data.freeBytes).toBeGreaterThan(0);
    expect(d.folders.data.freeBytes).toBeLessThanOrEqual(d.folders.data.totalBytes);
    expect(d.dataUsage).toEqual([{ name: 'jobs/', bytes: 1234 }]);
    expect(d.versions.node).toBe(process.versions.node);
    expect(d.versions.onnxruntime).toMatch(/^1\.\d+\.\d+$/);
    expect(d.onnxruntime.providers.map((p) => p.name)).toContain('cpu');
    expect(d.onnxruntime.providers.find((p) => p.name === 'cpu')).toEqual({ name: 'cpu', bundled: true });
    expect(d.problems).toEqual([]);
  });

  it('names a folder others can read, a folder not made yet, a configured model that is not there, and a stopped service', async () => {
    await mkdir(dataDir, { mode: 0o750 });
    await chmod(dataDir, 0o750);
    await mkdir(configDir, { mode: 0o700 });
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ models: { mine: '../nowhere' } }));
    const d = await diagnose({ ...options(), dirs: { dataDir, configDir }, service: { backend: serviceBackend({ platform: 'linux', env: {}, home: root }), io: stoppedUnit } });
    expect(d.folders.data).toMatchObject({ mode: '0750', ownerOnly: false });
    expect(d.models.find((m) => m.id === 'mine')).toMatchObject({ source: 'config', dir: join(root, 'nowhere'), bytes: 0 });
    expect(d.problems).toEqual([
      `the data folder ${dataDir} is readable by other users (mode 0750); the daemon makes it 0700 when it starts`,
      `model mine (${join(root, 'nowhere')}): no model_index.json in ${join(root, 'nowhere')}: fix "models" in config.json`,
      'the systemd user unit is registered but not running (failed (failed)): see its log',
    ]);
    // Not made yet is no problem: the daemon makes them; the disk is that of the nearest folder that exists.
    const missing = await diagnose({ ...options(), dirs: { dataDir: join(root, 'a', 'b'), configDir } });
    expect(missing.folders.data).toMatchObject({ exists: false, writable: true });
    expect(missing.folders.data.mode).toBeUndefined();
  });

  it('says where a running daemon listens (daemon.json, its process alive and its port open), and where one would otherwise', async () => {
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const url = `ws://127.0.0.1:${port}`;
    const record = { pid: process.pid, url, host: '127.0.0.1', port, dataDir, startedAt: '2026-01-02T03:04:05.000Z' };
    await writeFile(daemonFilePath(configDir), JSON.stringify(record));
    expect((await diagnose(options())).daemon).toEqual({ running: true, url, pid: process.pid, startedAt: record.startedAt });
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ port: 7555 }));
    expect((await diagnose(options())).daemon).toEqual({ running: false, url: 'ws://127.0.0.1:7555' });
  });
});
