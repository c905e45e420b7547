import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PROTOCOL_VERSION } from '@styleset/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinyModelSet } from './support/tiny-model-set';
import { endsJob, Wire } from './support/wire';

// `styleset serve` as users run it: the bundled CLI (dist/cli.js), which runs jobs in the bundled
// engine process (dist/engine-worker.js) next to itself (without it every job fails), on a real
// tiny model. The order of messages during a step is checked in engine-worker.test.ts.

const cli = join(import.meta.dirname, '..', 'packages', 'daemon', 'dist', 'cli.js');

let set: Awaited<ReturnType<typeof tinyModelSet<'large'>>>;
let root: string;
let serve: ChildProcess;
let stderr = '';
let url: string;
let wire: Wire;

beforeAll(async () => {
  expect(existsSync(cli), 'run `npm run build` first').toBe(true);
  set = await tinyModelSet({ large: { family: 'sd1', size: 'large' } });
  root = await mkdtemp(join(tmpdir(), 'styleset-bundle-'));
  serve = spawn(
    process.execPath,
    [cli, 'serve', '--port', '0', '--json', '--threads', '1', '--data-dir', join(root, 'data'), '--config-dir', join(root, 'config'), '--model', `tiny=${set.models.large.dir}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  serve.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    createInterface({ input: serve.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.type === 'listening') resolve(event);
    });
  });
  url = listening.url as string;
  ({ wire } = await Wire.open(url, (await readFile(join(root, 'config', 'token'), 'utf8')).trim()));
});

afterAll(async () => {
  await wire?.close();
  if (serve?.exitCode === null) serve.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
  await set?.dispose();
});

describe('the bundled daemon and its engine process', () => {
  it('stores each image before announcing it: the file is complete and identical when its result frame arrives', async () => {
    // Read synchronously in the frame's own handler, before anything else can happen here.
    const onDisk = new Map<number, Buffer | string>();
    let jobId = '';
    const off = wire.on(({ message, bytes }) => {
      if (message.id !== 'job') return;
      if (message.type === 'accepted') jobId = message.jobId;
      if (message.type !== 'result') return;
      const file = join(root, 'data', 'jobs', jobId, `${String(message.index).padStart(2, '0')}.png`);
      try {
        const stored = readFileSync(file);
        onDisk.set(message.index, Buffer.compare(stored, Buffer.from(bytes!)) === 0 && stored.length === message.attachment.byteLength ? stored : `differs: ${stored.length} bytes on disk, ${bytes!.length} in the frame`);
      } catch (error) {
        onDisk.set(message.index, `unreadable: ${(error as Error).message}`);
      }
    });
    const end = wire.next((a) => endsJob(a, 'job'));
    wire.send({ v: PROTOCOL_VERSION, id: 'job', type: 'submit', kind: 'set', prompts: ['a star', 'a moon', 'a house'], options: { steps: 4, seed: 2, batchSize: 2 } });
    const last = (await end).message;
    off();
    expect([...onDisk.keys()].sort()).toEqual([0, 1, 2]);
    for (const [index, stored] of onDisk) expect({ index, stored: Buffer.isBuffer(stored) ? 'identical' : stored }).toEqual({ index, stored: 'identical' });
    expect(last.type).toBe('done');

  });

  it('stops on SIGTERM with its engine process', async () => {
    const exited = new Promise<number | null>((resolve) => serve.once('exit', resolve));
    serve.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  });
});
