import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerPair } from '../packages/daemon/src/cli/commands/pair';
import { registerStatus } from '../packages/daemon/src/cli/commands/status';
import { StylesetClient } from '../packages/daemon/src/server/client';
import { fakePng, fakeSvg } from '../packages/daemon/test/server/support/fake-engine';

const fixture = join(import.meta.dirname, '../packages/daemon/test/server/support/serve-fixture.ts');

let root: string;
let serve: ChildProcess;
let lines: Record<string, unknown>[];
let url: string;

/** Runs a command in this process and returns what it wrote on stdout. */
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

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-cli-'));
  serve = spawn(process.execPath, ['--import', 'tsx', fixture, 'serve', '--port', '0', '--json', '--data-dir', join(root, 'data'), '--config-dir', join(root, 'config')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  lines = [];
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    createInterface({ input: serve.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      lines.push(event);
      if (event.type === 'listening') resolve(event);
    });
  });
  url = (await listening).url as string;
});

afterAll(async () => {
  if (serve.exitCode === null) serve.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

describe('styleset serve, pair and status', () => {
  it('serve reports where it listens, its folders and models as JSON', () => {
    expect(lines[0]).toMatchObject({
      type: 'listening',
      host: 'localhost',
      addresses: expect.arrayContaining(['127.0.0.1']),
      dataDir: join(root, 'data'),
      configDir: join(root, 'config'),
      tokenFile: join(root, 'config', 'token'),
      defaultModel: 'tiny',
      models: [{ id: 'tiny', kind: 'default', width: 64, height: 64 }, { id: 'sd15', kind: 'sd1' }],
      interrupted: [],
    });
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('pair prints the token serve made, alone on stdout or as JSON', async () => {
    const token = (await readFile(join(root, 'config', 'token'), 'utf8')).trim();
    expect(await run('pair', '--config-dir', join(root, 'config'))).toBe(`${token}\n`);
    // The daemon serves on a random port: pair names it, not config.json's default.
    expect(JSON.parse(await run('pair', '--config-dir', join(root, 'config'), '--json'))).toEqual({
      token,
      tokenFile: join(root, 'config', 'token'),
      url,
      running: true,
    });
  });

  it('status lists the models and the queue, as text and as JSON', async () => {
    const text = await run('status', '--url', url, '--config-dir', join(root, 'config'));
    expect(text).toContain(`at ${url} (protocol 1)`);
    expect(text).toMatch(/\* tiny\s+default\s+64x64\s+not loaded/);
    expect(text).toContain('\nqueue: idle\n');
    const json = JSON.parse(await run('status', '--url', url, '--config-dir', join(root, 'config'), '--json'));
    expect(json).toMatchObject({ url, protocol: 1, defaultModel: 'tiny', models: [{ id: 'tiny', loaded: false }, { id: 'sd15', path: '/models/sd15' }] });
    expect(json.queue).toEqual({ running: false, waiting: 0, jobs: [] });
  });

  it('status follows a job to its end and saves its images; serve logs it', async () => {
    const token = (await readFile(join(root, 'config', 'token'), 'utf8')).trim();
    const client = await StylesetClient.connect({ url, token });
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { steps: 20 } });
    await client.close();
    const out = join(root, 'out');
    const json = JSON.parse(await run('status', job.jobId, '--url', url, '--token', token, '--wait', '--out', out, '--json'));
    expect(json).toEqual({ jobId: job.jobId, kind: 'set', state: 'done', completed: 2, count: 2, files: [join(out, '00.png'), join(out, '01.png')] });
    expect(existsSync(join(out, '01.png'))).toBe(true);
    const text = await run('status', job.jobId, '--url', url, '--token', token);
    expect(text).toBe(`job ${job.jobId} (set): done, 2/2 images\n`);
    // The log line crosses a pipe from the serve process: wait for it (vi.waitFor's default of 1 s
    // is a deadline a busy machine can miss), an order check, not a speed one.
    await vi.waitFor(() => expect(lines.some((l) => l.type === 'job' && l.jobId === job.jobId && l.state === 'done')).toBe(true), { timeout: 30_000 });
  });

  it("status saves a vector job's SVGs next to its PNGs, in the order they came, and names its palette", async () => {
    const token = (await readFile(join(root, 'config', 'token'), 'utf8')).trim();
    const client = await StylesetClient.connect({ url, token });
    const job = await client.submit({ kind: 'set', prompts: ['a star', 'a moon'], options: { seed: 9, format: 'both' } });
    await client.close();
    const out = join(root, 'vector-out');
    const json = JSON.parse(await run('status', job.jobId, '--url', url, '--token', token, '--wait', '--out', out, '--json'));
    expect(json.files).toEqual(['00.png', '01.png', '00.svg', '01.svg'].map((file) => join(out, file)));
    const colors: string[] = json.vector.palettes[0].colors;
    expect(json).toMatchObject({ state: 'done', completed: 2, count: 2, vector: { palettes: [{ colors, images: [0, 1] }] } });
    expect(Buffer.from(await readFile(join(out, '01.svg')))).toEqual(Buffer.from(fakeSvg(64, 64, 10, colors)));
    expect(Buffer.from(await readFile(join(out, '01.png')))).toEqual(Buffer.from(fakePng(64, 64, 10)));
    const text = await run('status', job.jobId, '--url', url, '--token', token, '--out', out);
    expect(text).toContain(`\n  ${join(out, '01.svg')}\n  palette: ${colors.join(' ')}\n`);
  });

  it('status explains a wrong token, an unknown job and a daemon that is not there', async () => {
    await expect(run('status', '--url', url, '--token', 'wrong')).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(run('status', 'nope', '--url', url, '--config-dir', join(root, 'config'))).rejects.toMatchObject({ code: 'job_not_found' });
    await expect(run('status', '--url', 'ws://127.0.0.1:9', '--token', 't')).rejects.toMatchObject({ code: 'daemon_unreachable', message: expect.stringContaining('ws://127.0.0.1:9') });
    await expect(run('status', '--url', url, '--config-dir', join(root, 'nowhere'))).rejects.toThrow(/no pairing token/);
  });

  it('serve stops on SIGTERM, cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A client that left just before the signal may be logged as disconnected after it, as may the
    // connections the daemon closes on its way out; nothing else may follow the stopping line.
    const stopping = lines.findIndex((line) => line.type === 'stopping');
    expect(lines[stopping]).toMatchObject({ type: 'stopping', signal: 'SIGTERM' });
    expect(lines.slice(stopping + 1).map((line) => line.type)).toEqual(lines.slice(stopping + 1).map(() => 'disconnected'));
  });
});
