import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerPair } from '../../src/cli/commands/pair';
import { registerStatus } from '../../src/cli/commands/status';
import { daemonFilePath, findRunningDaemon } from '../../src/config/daemon-file';
import { startDaemon } from '../../src/server/daemon';
import { FakeEngine } from './support/fake-engine';
import { TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

/** Runs a CLI command in this process; what it wrote on stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command().name('styleset').exitOverride();
  registerPair(program);
  registerStatus(program);
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const silence = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
    silence.mockRestore();
  }
  return out;
}

/** A pid no process has: one that just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/** A loopback port nothing listens on now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('where the running daemon listens', () => {
  it('pair and status report the URL of a daemon on a random port, and fall back to config.json once it stops', async () => {
    test = await TestDaemon.start();
    expect(test.url).not.toBe('ws://127.0.0.1:7391');
    const pair = JSON.parse(await run('pair', '--json', '--config-dir', test.configDir));
    expect(pair).toEqual({ token: test.token, tokenFile: join(test.configDir, 'token'), url: test.url, running: true });
    // status finds the daemon without --url.
    expect(JSON.parse(await run('status', '--json', '--config-dir', test.configDir))).toMatchObject({ url: test.url, defaultModel: 'tiny' });

    const recorded = JSON.parse(await readFile(daemonFilePath(test.configDir), 'utf8'));
    expect(recorded).toEqual({ pid: process.pid, url: test.url, host: '127.0.0.1', port: test.daemon.port, dataDir: test.dataDir, startedAt: expect.any(String) });
    if (process.platform !== 'win32') expect((await stat(daemonFilePath(test.configDir))).mode & 0o777).toBe(0o600);

    await test.daemon.close();
    expect(existsSync(daemonFilePath(test.configDir))).toBe(false);
    expect(JSON.parse(await run('pair', '--json', '--config-dir', test.configDir))).toMatchObject({ url: 'ws://127.0.0.1:7391', running: false });
    await writeFile(join(test.configDir, 'config.json'), JSON.stringify({ port: 9123 }));
    expect(JSON.parse(await run('pair', '--json', '--config-dir', test.configDir))).toMatchObject({ url: 'ws://127.0.0.1:9123', running: false });
  });

  it('ignores a record a killed daemon left: its process is gone, or nothing listens where it said', async () => {
    test = await TestDaemon.start();
    await test.daemon.close();
    await mkdir(test.configDir, { recursive: true });
    const record = (pid: number, port: number) =>
      writeFile(daemonFilePath(test.configDir), JSON.stringify({ pid, url: `ws://127.0.0.1:${port}`, host: '127.0.0.1', port, dataDir: test.dataDir, startedAt: new Date().toISOString() }));

    // A process that is gone, at a port where something does listen (another daemon).
    const other = await startDaemon({ engine: new FakeEngine(), dataDir: test.dataDir, configDir: join(test.root, 'other'), port: 0 });
    try {
      await record(await deadPid(), other.port);
      expect(await findRunningDaemon(test.configDir)).toBeUndefined();
      // A live process (this one) at a port nothing listens on.
      await record(process.pid, await closedPort());
      expect(await findRunningDaemon(test.configDir)).toBeUndefined();
      expect(JSON.parse(await run('pair', '--json', '--config-dir', test.configDir))).toMatchObject({ url: 'ws://127.0.0.1:7391', running: false });
      // Both hold: it is the one.
      await record(process.pid, other.port);
      expect(await findRunningDaemon(test.configDir)).toMatchObject({ url: other.url });
      await writeFile(daemonFilePath(test.configDir), '{ "half');
      expect(await findRunningDaemon(test.configDir)).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('a daemon that stops leaves the record of a later one on the same config folder in place', async () => {
    test = await TestDaemon.start();
    const later = await startDaemon({ engine: new FakeEngine(), dataDir: join(test.root, 'data2'), configDir: test.configDir, port: 0 });
    try {
      expect((await findRunningDaemon(test.configDir))?.url).toBe(later.url);
      await test.daemon.close();
      expect((await findRunningDaemon(test.configDir))?.url).toBe(later.url);
    } finally {
      await later.close();
    }
    expect(existsSync(daemonFilePath(test.configDir))).toBe(false);
  });
});
