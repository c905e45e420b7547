/**
 * How the daemon hands out vector output (the engine's part is test/engine/vector-stage.test.ts,
 * and test/server-vector.test.ts runs it all on real models): the order of PNG and SVG results,
 * stored before they are announced, the palettes in `done` and `status`, what survives a restart,
 * images without an SVG, and that a job which asks for nothing new gets exactly what it always got.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { PROTOCOL_VERSION, decodeDaemonMessage, type DaemonMessage } from '@styleset/protocol';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { Received } from '../../src/server/client';
import { nodeFileSystem, type FileSystem } from '../../src/storage';
import { fakePng, fakeSvg } from './support/fake-engine';
import { collect, ofType, TestDaemon } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test?.close();
});

const PROMPTS = ['a star', 'a moon', 'a house'];

/** What a result says, in a form to compare: index, format, warning, MIME type. */
const described = (r: Received<'result'>) => [r.message.index, r.message.format, r.message.warning, r.message.attachment.mime];

type Logged = { renamed: string } | { sent: string };

/**
 * One log, in the order things happened in this process: each rename the data folder's store
 * completed (the real file system's), and each result frame a daemon socket was handed to send.
 */
function loggingFileSystem(log: Logged[]): FileSystem {
  return {
    ...nodeFileSystem,
    rename: async (from, to) => {
      await nodeFileSystem.rename(from, to);
      log.push({ renamed: to });
    },
  };
}

function logSentResults(log: Logged[]): () => void {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    if (data instanceof Uint8Array) {
      const decoded = decodeDaemonMessage(data);
      if (decoded.ok && decoded.message.type === 'result') {
        const { index, format = 'png' } = decoded.message;
        log.push({ sent: `0${index}.${format}` });
      }
    }
    return (send as (...args: unknown[]) => void).call(this, data, ...rest);
  } as typeof send;
  return () => {
    WebSocket.prototype.send = send;
  };
}

describe('a job that asks for PNGs and SVGs with transparent backgrounds', () => {
  it('streams the PNGs, then the SVGs in index order once each is stored, then done with the palette', async () => {
    const log: Logged[] = [];
    test = await TestDaemon.start({ engine: { keptBackgrounds: [1] }, daemon: { fileSystem: loggingFileSystem(log) } });
    const client = await test.client();
    const restore = logSentResults(log);
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { seed: 10, format: 'both', background: 'transparent' } });
    let events: Received[];
    try {
      events = await collect(job);
    } finally {
      restore();
    }
    // Before each result went out: its file was renamed into place, and after that the record
    // that lists it (job.json).
    const sent = log.flatMap((entry, at) => ('sent' in entry ? [{ file: entry.sent, at }] : []));
    expect(sent.map((s) => s.file)).toEqual(['00.png', '01.png', '02.png', '00.svg', '01.svg', '02.svg']);
    for (const { file, at } of sent) {
      const before = log.slice(0, at).map((entry) => ('renamed' in entry ? basename(entry.renamed) : ''));
      const stored = before.lastIndexOf(file);
      expect(stored, `${file} was announced before it was stored`).toBeGreaterThanOrEqual(0);
      expect(before.indexOf('job.json', stored), `${file} was announced before the record listing it`).toBeGreaterThan(stored);
    }

    const results = ofType(events, 'result');
    expect(results.map(described)).toEqual([
      [0, 'png', undefined, 'image/png'],
      [1, 'png', 'background kept: fake', 'image/png'],
      [2, 'png', undefined, 'image/png'],
      [0, 'svg', undefined, 'image/svg+xml'],
      [1, 'svg', 'background kept: fake', 'image/svg+xml'],
      [2, 'svg', undefined, 'image/svg+xml'],
    ]);
    for (const r of results) {
      const { index, seed, format } = r.message;
      expect(seed).toBe(10 + index);
      const expected = format === 'svg' ? undefined : fakePng(64, 64, seed);
      if (expected) expect(Buffer.from(r.bytes!)).toEqual(Buffer.from(expected));
      const stored = await readFile(join(test.dataDir, 'jobs', job.jobId, `0${index}.${format}`));
      expect(Buffer.compare(stored, Buffer.from(r.bytes!))).toBe(0);
    }
    const done = events.at(-1)!.message as Extract<DaemonMessage, { type: 'done' }>;
    expect(done.type).toBe('done');
    expect(done.count).toBe(3);
    // The SVGs' fills are the palette's colours.
    const palette = done.vector!.palettes[0].colors;
    expect(done.vector).toEqual({ palettes: [{ colors: palette, images: [0, 1, 2] }] });
    for (const r of results.filter((r) => r.message.format === 'svg')) {
      const fills = [...new TextDecoder().decode(r.bytes).matchAll(/fill="([^"]+)"/g)].map((m) => m[1]);
      expect(fills).toEqual(palette);
      expect(Buffer.from(r.bytes!)).toEqual(Buffer.from(fakeSvg(64, 64, r.message.seed, palette)));
    }
    expect(await client.getStatus(job.jobId)).toMatchObject({ state: 'done', completed: 3, count: 3, vector: done.vector });
  });

  it('serves every result again, in the order announced and byte for byte, with the palettes, after a restart', async () => {
    test = await TestDaemon.start();
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { seed: 3, format: 'both', background: 'transparent', palette: 'image' } });
    const events = await collect(job);
    const announced = ofType(events, 'result');
    const done = events.at(-1)!.message as Extract<DaemonMessage, { type: 'done' }>;
    expect(done.vector!.palettes.map((p) => p.images)).toEqual([[0], [1], [2]]);

    await test.restart();
    const again = await (await test.client()).getResults(job.jobId);
    expect(again.results.map((r) => ({ ...r.message, id: undefined }))).toEqual(announced.map((r) => ({ ...r.message, id: undefined })));
    for (const [i, r] of again.results.entries()) expect(Buffer.compare(Buffer.from(r.bytes!), Buffer.from(announced[i].bytes!))).toBe(0);
    expect(again.status).toMatchObject({ state: 'done', completed: 3, count: 3, vector: done.vector });

    // fromIndex skips images, both their PNG and their SVG.
    const tail = await (await test.client()).getResults(job.jobId, 2);
    expect(tail.results.map(described)).toEqual([
      [2, 'png', undefined, 'image/png'],
      [2, 'svg', undefined, 'image/svg+xml'],
    ]);
  });
});

describe('an image that gets no SVG', () => {
  it('keeps its PNG result in a both job, and done says which image and why', async () => {
    test = await TestDaemon.start({ engine: { svgFailures: [1] } });
    const client = await test.client();
    const events = await collect(await client.submit({ kind: 'set', prompts: PROMPTS, options: { format: 'both' } }));
    expect(ofType(events, 'result').map(described)).toEqual([
      [0, 'png', undefined, 'image/png'],
      [1, 'png', undefined, 'image/png'],
      [2, 'png', undefined, 'image/png'],
      [0, 'svg', undefined, 'image/svg+xml'],
      [2, 'svg', undefined, 'image/svg+xml'],
    ]);
    const done = events.at(-1)!.message;
    expect(done).toMatchObject({ type: 'done', count: 3, vector: { palettes: [{ images: [0, 2] }], failed: [{ index: 1, warning: 'no SVG: fake failure' }] } });
  });

  it('gets its PNG, with the warning, in its place among the SVGs of an svg job', async () => {
    test = await TestDaemon.start({ engine: { svgFailures: [1] } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { seed: 5, format: 'svg' } });
    const events = await collect(job);
    const results = ofType(events, 'result');
    expect(results.map(described)).toEqual([
      [0, 'svg', undefined, 'image/svg+xml'],
      [1, 'png', 'no SVG: fake failure', 'image/png'],
      [2, 'svg', undefined, 'image/svg+xml'],
    ]);
    expect(Buffer.from(results[1].bytes!)).toEqual(Buffer.from(fakePng(64, 64, 6)));
    expect((await readdir(join(test.dataDir, 'jobs', job.jobId))).sort()).toEqual(['00.svg', '01.png', '02.svg', 'job.json']);
    expect(events.at(-1)!.message).toMatchObject({ type: 'done', count: 3, vector: { failed: [{ index: 1 }] } });
  });

  it('of an svg job that fails while its SVGs are made: the PNGs are kept, each saying so, before the error', async () => {
    test = await TestDaemon.start({ engine: { failInVector: { code: 'internal', message: 'the tracer crashed' } } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { format: 'svg' } });
    const events = await collect(job);
    const warning = 'no SVG: the job failed before its SVGs were made (the tracer crashed)';
    expect(ofType(events, 'result').map(described)).toEqual([0, 1, 2].map((i) => [i, 'png', warning, 'image/png']));
    expect(events.at(-1)!.message).toMatchObject({ type: 'job_error', code: 'internal', message: 'the tracer crashed' });
    expect((await client.getResults(job.jobId)).results.map(described)).toEqual([0, 1, 2].map((i) => [i, 'png', warning, 'image/png']));
  });
});

describe('cancelling while the SVGs are made', () => {
  it('stops the job with its PNGs kept and no SVG', async () => {
    test = await TestDaemon.start({ engine: { holdBeforeVector: true } });
    const client = await test.client();
    const job = await client.submit({ kind: 'set', prompts: PROMPTS, options: { format: 'both' } });
    const seen: Received[] = [];
    for await (const event of job) {
      seen.push(event);
      if (ofType(seen, 'result').length === 3) break;
    }
    expect((await client.cancel(job.jobId)).state).toBe('cancelled');
    const rest = await collect(job);
    expect(ofType(rest, 'result')).toEqual([]);
    expect(rest.at(-1)!.message).toMatchObject({ type: 'job_error', code: 'cancelled' });
    const { results, status } = await client.getResults(job.jobId);
    expect(results.map(described)).toEqual([0, 1, 2].map((i) => [i, 'png', undefined, 'image/png']));
    expect(status.vector).toBeUndefined();
  });
});

describe('a job that asks for nothing new', () => {
  /** Every frame a bare socket receives, as the daemon wrote it. */
  async function rawJob(options: object | undefined): Promise<{ frames: Array<string | Buffer>; jobId: string }> {
    const socket = await test.pairedSocket();
    const frames: Array<string | Buffer> = [];
    socket.ws.on('message', (data, isBinary) => frames.push(isBinary ? (data as Buffer) : data.toString()));
    socket.send({ v: PROTOCOL_VERSION, id: 'job', type: 'submit', kind: 'set', prompts: PROMPTS.slice(0, 2), ...(options && { options }) });
    const events = await socket.until('done');
    const jobId = (events[0].message as { jobId: string }).jobId;
    return { frames, jobId };
  }

  /** The JSON text of a frame: a text frame, or a binary frame's header. */
  const json = (frame: string | Buffer) => (typeof frame === 'string' ? frame : frame.subarray(4, 4 + frame.readUInt32BE(0)).toString('utf8'));

  it.each([
    ['no options', undefined],
    ['the vector defaults, spelt out', { format: 'png', background: 'keep', palette: 'set', seed: 7 }],
  ])('gets the messages it always got, byte for byte: %s', async (_, options) => {
    test = await TestDaemon.start();
    const { frames, jobId } = await rawJob(options);
    const texts = frames.map(json);
    const results = texts.filter((t) => t.includes('"type":"result"'));
    expect(results).toHaveLength(2);
    for (const [index, text] of results.entries()) {
      const m = JSON.parse(text);
      // The fields and their order of protocol version 1 before vector output, nothing else.
      const v1 = { v: 1, type: 'result', jobId, index, prompt: PROMPTS[index], seed: m.seed, width: 64, height: 64, attachment: { byteLength: m.attachment.byteLength, mime: 'image/png' }, id: 'job' };
      expect(text).toBe(JSON.stringify(v1));
    }
    const done = JSON.parse(texts.at(-1)!);
    expect(texts.at(-1)).toBe(JSON.stringify({ v: 1, type: 'done', jobId, count: 2, timings: done.timings, id: 'job' }));
    const status = await (await test.client()).getStatus(jobId);
    expect(Object.keys(status).sort()).toEqual(['completed', 'count', 'id', 'jobId', 'kind', 'state', 'type', 'v']);
  });

  it('with a transparent background only, gets PNG results labelled png and no palettes', async () => {
    test = await TestDaemon.start({ engine: { keptBackgrounds: [0] } });
    const client = await test.client();
    const events = await collect(await client.submit({ kind: 'set', prompts: PROMPTS.slice(0, 2), options: { background: 'transparent' } }));
    expect(ofType(events, 'result').map(described)).toEqual([
      [0, 'png', 'background kept: fake', 'image/png'],
      [1, 'png', undefined, 'image/png'],
    ]);
    expect(events.at(-1)!.message).not.toHaveProperty('vector');
  });
});
