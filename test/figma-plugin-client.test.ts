import {
  LIMITS,
  PROTOCOL_VERSION,
  decodeClientMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type Frame,
  type Limits,
  type ModelInfo,
} from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import { DaemonConnection, DaemonProblem, type JobEvent, type OpenSocket, type SocketListener } from '../packages/figma-plugin/src/daemon-client';
import type { UiToMain } from '../packages/figma-plugin/src/messages';
import { explain, type Problem } from '../packages/figma-plugin/src/problems';
import { checkSetForm, startRegenerate, startSetRun, withSummary, type RunDeps, type ViewState } from '../packages/figma-plugin/src/run';
import type { SelectionInfo } from '../packages/figma-plugin/src/selection';
import { PNG_OUTPUT as PNG } from '../packages/figma-plugin/src/asset-record';
import type { CanvasStyle } from '../packages/figma-plugin/src/style';
import { plainText, type Words } from '../packages/figma-plugin/src/text';

const URL = 'ws://127.0.0.1:7391';
const v = PROTOCOL_VERSION;

/** Lets promise continuations run: the client and the run await between messages. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * A socket whose daemon side the test scripts with real protocol frames. Everything the client
 * sends is decoded with the protocol, so a malformed request fails the test.
 */
class ScriptedSocket {
  readonly sent: ClientMessage[] = [];
  /** The bytes of each binary request, by request id. */
  readonly attachments = new Map<string, Uint8Array>();
  closed = false;
  private listener?: SocketListener;

  readonly open: OpenSocket = (_url, listener) => {
    this.listener = listener;
    return {
      send: (frame) => {
        const decoded = decodeClientMessage(frame);
        if (!decoded.ok) throw new Error(`the client sent an invalid message: ${decoded.error.message}`);
        this.sent.push(decoded.message);
        if (decoded.bytes) this.attachments.set(decoded.message.id, decoded.bytes.slice());
      },
      close: () => (this.closed = true),
    };
  };

  connect(): void {
    this.listener!.open();
  }

  /** Encodes with the protocol; a binary frame arrives as an ArrayBuffer, as in a browser. */
  async daemon(message: DaemonMessage, bytes?: Uint8Array): Promise<void> {
    const frame = encodeMessage(message, bytes);
    this.listener!.frame(typeof frame === 'string' ? frame : frame.slice().buffer);
    await flush();
  }

  async raw(frame: Frame): Promise<void> {
    this.listener!.frame(frame);
    await flush();
  }

  async drop(code = 1006, reason = ''): Promise<void> {
    this.listener!.close(code, reason);
    await flush();
  }

  async block(): Promise<void> {
    this.listener!.blocked();
    await flush();
  }

  types(): string[] {
    return this.sent.map((message) => message.type);
  }

  /** The id of the last request of this type: replies must echo it. */
  idOf(type: string): string {
    const message = this.sent.filter((m) => m.type === type).at(-1);
    if (message === undefined) throw new Error(`no ${type} was sent; sent: ${this.types().join(', ')}`);
    return message.id;
  }

  last(): ClientMessage {
    return this.sent.at(-1)!;
  }
}

const MODEL: ModelInfo = {
  id: 'icons',
  name: 'Icons',
  kind: 'default',
  width: 64,
  height: 64,
  defaults: { scheduler: 'ddim', steps: 50, guidance: 7.5 },
  loaded: true,
};
const welcome = (limits: Limits = LIMITS): DaemonMessage => ({ v, id: 'hello', type: 'welcome', daemonVersion: '0.1.0', limits, defaultModel: 'icons' });
const accepted = (id: string, jobId = 'job1', position = 0, count = 2): DaemonMessage => ({ v, id, type: 'accepted', jobId, position, count });
const png = (seed: number) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, seed]);
const result = (id: string, index: number, seed = 40 + index, jobId = 'job1'): [DaemonMessage, Uint8Array] => [
  { v, id, type: 'result', jobId, index, prompt: `prompt ${index}`, seed, width: 64, height: 64, attachment: { byteLength: 5, mime: 'image/png' } },
  png(index),
];
const done = (id: string, jobId = 'job1', count = 2): DaemonMessage => ({ v, id, type: 'done', jobId, count, timings: { queuedMs: 0, runMs: 5, phases: {} } });
const cancelled = (id: string, jobId = 'job1'): DaemonMessage => ({ v, id, type: 'job_error', jobId, code: 'cancelled', message: `job ${jobId} was cancelled` });

/** A connection the test has paired: hello answered with welcome. */
async function paired() {
  const socket = new ScriptedSocket();
  const opening = DaemonConnection.open(URL, 'secret', socket.open);
  socket.connect();
  await socket.daemon(welcome());
  const { connection } = await opening;
  return { socket, connection };
}

/** What a promise settled to, without awaiting a rejection into a throw. */
function outcome<T>(promise: Promise<T>) {
  const seen: { value?: T; problem?: Problem; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(seen, { value, settled: true }),
    (error: unknown) => Object.assign(seen, { problem: error instanceof DaemonProblem ? error.problem : { code: 'internal', message: String(error) }, settled: true }),
  );
  return seen;
}

describe('DaemonConnection', () => {
  it('pairs, asks for a model, runs a job to its end and hands out its events in order', async () => {
    const socket = new ScriptedSocket();
    const opening = outcome(DaemonConnection.open(URL, 'secret', socket.open));
    socket.connect();
    expect(socket.sent).toEqual([{ v, id: 'hello', type: 'hello', token: 'secret' }]);
    await socket.daemon(welcome());
    expect(opening.value?.welcome).toMatchObject({ defaultModel: 'icons' });
    const connection = opening.value!.connection;

    const model = outcome(connection.getModel('icons'));
    expect(socket.last()).toEqual({ v, id: socket.idOf('get_model'), type: 'get_model', model: 'icons' });
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    expect(model.value).toEqual(MODEL);

    const events: JobEvent[] = [];
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a home icon', 'a search icon'], options: { previewEvery: 5 } }, undefined, (e) => events.push(e)));
    const id = socket.idOf('submit');
    expect(socket.last()).toEqual({ v, id, type: 'submit', kind: 'set', prompts: ['a home icon', 'a search icon'], options: { previewEvery: 5 } });
    expect(new Set(socket.sent.map((m) => m.id)).size).toBe(3);
    await socket.daemon(accepted(id, 'job1', 1));
    await socket.daemon({ v, id, type: 'status', jobId: 'job1', kind: 'set', state: 'running', completed: 0, count: 2 });
    await socket.daemon({ v, id, type: 'progress', jobId: 'job1', phase: 'denoising', step: 2, total: 4 });
    await socket.daemon({ v, id, type: 'progress', jobId: 'job1', phase: 'denoising', step: 3, total: 4, attachment: { byteLength: 5, mime: 'image/png' } }, png(9));
    await socket.daemon(...result(id, 0));
    await socket.daemon(...result(id, 1));
    expect(job.settled).toBe(false);
    await socket.daemon(done(id));
    expect(job.value).toEqual({ status: 'done', jobId: 'job1' });
    expect(events).toEqual([
      { type: 'queued', position: 1 },
      { type: 'running' },
      { type: 'progress', phase: 'denoising', step: 2, total: 4 },
      { type: 'progress', phase: 'denoising', step: 3, total: 4, preview: png(9) },
      { type: 'result', index: 0, prompt: 'prompt 0', seed: 40, width: 64, height: 64, format: 'png', bytes: png(0) },
      { type: 'result', index: 1, prompt: 'prompt 1', seed: 41, width: 64, height: 64, format: 'png', bytes: png(1) },
    ]);
  });

  it('sends a reference image as the attachment of its submit', async () => {
    const { socket, connection } = await paired();
    const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    void connection.runJob({ kind: 'inversion', referencePrompt: 'a star icon', attachment: { byteLength: image.length, mime: 'image/png' } }, image, () => {});
    expect(socket.last()).toMatchObject({ type: 'submit', kind: 'inversion', referencePrompt: 'a star icon', attachment: { byteLength: 7, mime: 'image/png' } });
    expect(socket.attachments.get(socket.idOf('submit'))).toEqual(image);
  });

  it('reports a daemon that is not running: the socket closed before it opened', async () => {
    const socket = new ScriptedSocket();
    const opening = outcome(DaemonConnection.open(URL, 'secret', socket.open));
    await socket.drop(1006);
    expect(opening.problem).toEqual({ code: 'daemon_unreachable', message: `nothing answered at ${URL}` });
  });

  it('reports an address the page’s policy refused', async () => {
    const socket = new ScriptedSocket();
    const opening = outcome(DaemonConnection.open(URL, 'secret', socket.open));
    await socket.block();
    expect(opening.problem).toEqual({ code: 'blocked', message: `the plugin may not connect to ${URL}` });
  });

  it('reports a rejected token as unauthorized, once, even though the daemon then closes', async () => {
    const socket = new ScriptedSocket();
    const opening = outcome(DaemonConnection.open(URL, 'secret', socket.open));
    socket.connect();
    await socket.daemon({ v, id: 'hello', type: 'error', code: 'unauthorized', message: 'wrong pairing token: run `styleset pair`' });
    await socket.drop(1008, 'unauthorized');
    expect(opening.problem).toEqual({ code: 'unauthorized', message: 'wrong pairing token: run `styleset pair`' });
    expect(socket.types()).toEqual(['hello']);
    expect(socket.closed).toBe(true);
  });

  it('reports a daemon of another protocol version, naming both versions', async () => {
    const socket = new ScriptedSocket();
    const opening = outcome(DaemonConnection.open(URL, 'secret', socket.open));
    socket.connect();
    await socket.raw(JSON.stringify({ v: PROTOCOL_VERSION + 1, id: 'hello', type: 'welcome', something: 'new' }));
    expect(opening.problem).toMatchObject({ code: 'version_mismatch', field: 'v' });
    expect(opening.problem?.message).toContain(`protocol version ${PROTOCOL_VERSION + 1}; this client speaks version ${PROTOCOL_VERSION}`);
    expect(socket.closed).toBe(true);
  });

  it('reports an unreadable frame instead of throwing, and fails every request waiting', async () => {
    const { socket, connection } = await paired();
    const model = outcome(connection.getModel('icons'));
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a'] }, undefined, () => {}));
    await socket.raw(new Uint8Array([0, 0, 0, 99, 1]).buffer);
    expect(model.problem).toMatchObject({ code: 'bad_message' });
    expect(job.problem).toEqual(model.problem);
    // Nothing more goes over a failed connection.
    const later = outcome(connection.getModel('icons'));
    await flush();
    expect(later.problem).toEqual(model.problem);
    expect(socket.types()).toEqual(['hello', 'get_model', 'submit']);
  });

  it('keeps the images a failed job delivered, and rejects with its error', async () => {
    const { socket, connection } = await paired();
    const events: JobEvent[] = [];
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a', 'b'] }, undefined, (e) => events.push(e)));
    const id = socket.idOf('submit');
    await socket.daemon(accepted(id));
    await socket.daemon(...result(id, 0));
    await socket.daemon({ v, id, type: 'job_error', jobId: 'job1', code: 'internal', message: 'out of memory' });
    expect(events.filter((e) => e.type === 'result')).toHaveLength(1);
    expect(job.problem).toEqual({ code: 'internal', message: 'out of memory' });
  });

  it('rejects a refused submission with the field the daemon names, and stays usable', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'reference', prompts: ['a'], referencePrompt: 'b', inversionJobId: 'gone' }, undefined, () => {}));
    await socket.daemon({ v, id: socket.idOf('submit'), type: 'error', code: 'job_not_found', message: 'no job gone', field: 'inversionJobId' });
    expect(job.problem).toEqual({ code: 'job_not_found', message: 'no job gone', field: 'inversionJobId' });
    const model = outcome(connection.getModel('icons'));
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    expect(model.value).toEqual(MODEL);
    expect(socket.closed).toBe(false);
  });

  it('reports a connection dropped mid-job, with the close code and reason', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a'] }, undefined, () => {}));
    await socket.daemon(accepted(socket.idOf('submit')));
    await socket.drop(1001, 'daemon stopping');
    expect(job.problem).toEqual({ code: 'connection_lost', message: 'daemon stopping', closeCode: 1001 });
  });

  it('cancels a running job on the daemon, once, and ends on its cancelled job_error', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a', 'b'] }, undefined, () => {}));
    const id = socket.idOf('submit');
    await socket.daemon(accepted(id));
    await socket.daemon(...result(id, 0));
    connection.cancel();
    connection.cancel();
    expect(socket.sent.filter((m) => m.type === 'cancel')).toEqual([{ v, id: socket.idOf('cancel'), type: 'cancel', jobId: 'job1' }]);
    await socket.daemon(cancelled(id));
    await socket.daemon({ v, id: socket.idOf('cancel'), type: 'status', jobId: 'job1', kind: 'set', state: 'cancelled', completed: 1, count: 2 });
    expect(job.value).toEqual({ status: 'cancelled' });
    expect(socket.closed).toBe(false);
  });

  it('cancels a submission in flight as soon as it is accepted', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a'] }, undefined, () => {}));
    connection.cancel();
    expect(socket.types()).toEqual(['hello', 'submit']);
    await socket.daemon(accepted(socket.idOf('submit')));
    expect(socket.types()).toEqual(['hello', 'submit', 'cancel']);
    await socket.daemon(cancelled(socket.idOf('submit')));
    expect(job.value).toEqual({ status: 'cancelled' });
  });

  it('ignores the error a cancel gets when the job had just ended, and resolves done', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a'] }, undefined, () => {}));
    const id = socket.idOf('submit');
    await socket.daemon(accepted(id));
    connection.cancel();
    await socket.daemon({ v, id: socket.idOf('cancel'), type: 'error', code: 'job_not_found', message: 'no job job1' });
    await socket.daemon(done(id));
    expect(job.value).toEqual({ status: 'done', jobId: 'job1' });
  });

  it('fails on an error that answers no request: a connection-level problem', async () => {
    const { socket, connection } = await paired();
    const job = outcome(connection.runJob({ kind: 'set', prompts: ['a'] }, undefined, () => {}));
    await socket.daemon({ v, type: 'error', code: 'too_large', message: 'frame over 100 bytes' });
    expect(job.problem).toEqual({ code: 'too_large', message: 'frame over 100 bytes' });
  });
});

const NONE: SelectionInfo = { kind: 'none' };
const frameSelected: SelectionInfo = { kind: 'one', node: { id: '1:5', name: 'Icons', type: 'FRAME', width: 400, height: 400 }, container: true };
const STAR: CanvasStyle = { kind: 'canvas', nodeId: '1:2', name: 'star', width: 48, height: 48, thumbnail: png(1), suggestedPrompt: 'a star icon' };
const EXPORTED = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7]);

describe('checkSetForm', () => {
  const form = { names: 'home', styleHint: '', referencePrompt: 'a star icon', output: PNG };

  it('asks for a token, then a destination, then names, then (with a style) a reference prompt, each pointing at its field', () => {
    expect(checkSetForm(form, ' ', frameSelected, undefined)).toEqual({
      error: { message: ['Paste the pairing token: run ', { code: 'npx styleset pair' }, ' in a terminal and copy the token it prints.'], field: 'token' },
    });
    expect(checkSetForm(form, 't', NONE, undefined)).toEqual({ error: { message: [expect.stringMatching(/^Select an icon, image, component or frame/)] } });
    expect(checkSetForm({ ...form, names: ' , ' }, 't', frameSelected, undefined)).toEqual({ error: { message: [expect.any(String)], field: 'names' } });
    expect(checkSetForm({ ...form, referencePrompt: '  ' }, 't', NONE, STAR)).toEqual({
      error: { message: ['Describe the style’s layer “star” in a few words, e.g. “a star icon”: the daemon inverts it with that prompt.'], field: 'referencePrompt' },
    });
    expect(checkSetForm({ ...form, referencePrompt: 'x'.repeat(LIMITS.maxPromptLength + 1) }, 't', NONE, STAR)).toMatchObject({ error: { field: 'referencePrompt' } });
  });

  it('names a new frame after the style, or keeps the selected frame’s name', () => {
    expect(checkSetForm(form, 't', NONE, STAR)).toMatchObject({ setName: 'star set', referencePrompt: 'a star icon' });
    expect(checkSetForm(form, 't', frameSelected, STAR)).toMatchObject({ setName: 'Icons' });
    expect(checkSetForm(form, 't', frameSelected, undefined)).not.toHaveProperty('referencePrompt');
  });
});

/** A run against a scripted daemon, with the main thread's export standing by. */
function harness(overrides: Partial<RunDeps> = {}) {
  const socket = new ScriptedSocket();
  const toMain: UiToMain[] = [];
  const views: ViewState[] = [];
  const exports: [string, number, number][] = [];
  const deps: RunDeps = {
    url: URL,
    token: 'secret',
    openSocket: socket.open,
    toMain: (m) => toMain.push(m),
    render: (view) => views.push(view),
    exportReference: async (nodeId, width, height) => {
      exports.push([nodeId, width, height]);
      return EXPORTED;
    },
    newSeed: (avoid) => (avoid === 7 ? 8 : 7),
    ...overrides,
  };
  const assets = () => toMain.flatMap((m) => (m.type === 'asset' ? [m.asset] : []));
  return { socket, toMain, views, exports, deps, assets };
}

describe('startSetRun', () => {
  it('from names alone: submits a set, sends each image to the main thread by name, and ends with done', async () => {
    const { socket, toMain, views, deps, assets } = harness();
    startSetRun({ names: 'home, search, home', styleHint: 'flat', referencePrompt: '', output: PNG }, frameSelected, undefined, deps);
    expect(toMain).toEqual([{ type: 'begin', plan: { kind: 'set', count: 2, destination: { kind: 'frame', nodeId: '1:5', name: 'Icons' }, setName: 'Icons' } }]);
    socket.connect();
    await socket.daemon(welcome());
    const id = socket.idOf('submit');
    expect(socket.last()).toMatchObject({ type: 'submit', kind: 'set', prompts: ['a home icon, flat', 'a search icon, flat'], options: { previewEvery: 5 } });
    await socket.daemon(accepted(id));
    await socket.daemon({ v, id, type: 'progress', jobId: 'job1', phase: 'denoising', step: 1, total: 4 });
    await socket.daemon({ v, id, type: 'progress', jobId: 'job1', phase: 'denoising', step: 2, total: 4, attachment: { byteLength: 5, mime: 'image/png' } }, png(7));
    await socket.daemon({ v, id, type: 'progress', jobId: 'job1', phase: 'denoising', step: 3, total: 4 });
    await socket.daemon(...result(id, 1));
    await socket.daemon(...result(id, 0));
    await socket.daemon(done(id));
    // The preview stays until a newer one or the end of the run.
    expect(views.filter((view) => view.status === 'Denoising, step 3 of 4').at(-1)?.preview).toEqual(png(7));
    expect(views.at(-1)?.preview).toBeUndefined();
    expect(assets()).toEqual([
      { index: 1, record: { name: 'search', prompt: 'prompt 1', seed: 41, output: PNG, style: null }, image: { format: 'png', png: png(1) }, width: 64, height: 64 },
      { index: 0, record: { name: 'home', prompt: 'prompt 0', seed: 40, output: PNG, style: null }, image: { format: 'png', png: png(0) }, width: 64, height: 64 },
    ]);
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'done' } });
    expect(views[0]).toMatchObject({ busy: true, status: 'Connecting to the daemon…', note: 'Repeated names made once: home.' });
    expect(views.at(-1)).toMatchObject({ busy: false, status: 'Made 2 of 2 images.' });
    // The bar goes once the run is over: the status says how it ended.
    expect(views.at(-1)?.fraction).toBeUndefined();
    expect(socket.closed).toBe(true);
  });

  it('in a canvas style: exports the layer at the model’s size, has it inverted once, then makes the set after it', async () => {
    const { socket, toMain, views, exports, deps, assets } = harness();
    startSetRun({ names: 'home, search', styleHint: '', referencePrompt: ' a star icon ', output: PNG }, NONE, STAR, deps);
    expect(toMain[0]).toEqual({ type: 'begin', plan: { kind: 'set', count: 2, destination: { kind: 'new-frame', nextTo: { nodeId: '1:2', name: 'star' } }, setName: 'star set' } });
    socket.connect();
    await socket.daemon(welcome());
    expect(socket.last()).toMatchObject({ type: 'get_model', model: 'icons' });
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: { ...MODEL, width: 64, height: 48 } });
    expect(exports).toEqual([['1:2', 64, 48]]);
    const inversion = socket.idOf('submit');
    expect(socket.last()).toEqual({ v, id: inversion, type: 'submit', kind: 'inversion', referencePrompt: 'a star icon', attachment: { byteLength: EXPORTED.length, mime: 'image/png' } });
    expect(socket.attachments.get(inversion)).toEqual(EXPORTED);
    await socket.daemon(accepted(inversion, 'inv1', 0, 0));
    await socket.daemon({ v, id: inversion, type: 'progress', jobId: 'inv1', phase: 'inverting', step: 25, total: 50 });
    expect(views.at(-1)?.status).toBe('Inverting the style reference, step 25 of 50');
    const inverting = views.at(-1)!.fraction!;
    await socket.daemon(done(inversion, 'inv1', 0));
    const set = socket.idOf('submit');
    expect(set).not.toBe(inversion);
    expect(socket.last()).toEqual({
      v,
      id: set,
      type: 'submit',
      kind: 'reference',
      prompts: ['a home icon', 'a search icon'],
      referencePrompt: 'a star icon',
      inversionJobId: 'inv1',
      options: { previewEvery: 5 },
    });
    await socket.daemon(accepted(set, 'job2'));
    // The set's encoding comes before inverting on the bar: the bar does not go back.
    await socket.daemon({ v, id: set, type: 'progress', jobId: 'job2', phase: 'encoding', step: 0, total: 1 });
    expect(views.at(-1)?.fraction).toBe(inverting);
    await socket.daemon(...result(set, 0, 40, 'job2'));
    await socket.daemon(...result(set, 1, 41, 'job2'));
    await socket.daemon(done(set, 'job2'));
    const style = { referencePrompt: 'a star icon', inversionJobId: 'inv1', referenceNodeId: '1:2', referenceName: 'star' };
    expect(assets().map((asset) => asset.record)).toEqual([
      { name: 'home', prompt: 'prompt 0', seed: 40, output: PNG, style },
      { name: 'search', prompt: 'prompt 1', seed: 41, output: PNG, style },
    ]);
    expect(views.at(-1)).toMatchObject({ busy: false, status: 'Made 2 of 2 images.' });
  });

  it('as SVG: asks for vectors on one palette, places each SVG as it comes, notes what is not as asked, and hands on the palette', async () => {
    const { socket, toMain, views, deps, assets } = harness();
    startSetRun({ names: 'home, search', styleHint: '', referencePrompt: '', output: { format: 'svg', transparent: true } }, frameSelected, undefined, deps);
    socket.connect();
    await socket.daemon(welcome());
    const id = socket.idOf('submit');
    expect(socket.last()).toMatchObject({ kind: 'set', options: { previewEvery: 5, format: 'svg', palette: 'set', background: 'transparent' } });
    await socket.daemon(accepted(id));
    const svg = (index: number) => new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path fill="#112233" d="M${index} 0h8v8z"/></svg>`);
    const svgResult = (index: number, warning?: string): [DaemonMessage, Uint8Array] => [
      { v, id, type: 'result', jobId: 'job1', index, prompt: `prompt ${index}`, seed: 40 + index, width: 64, height: 64, format: 'svg', ...(warning ? { warning } : {}), attachment: { byteLength: svg(index).length, mime: 'image/svg+xml' } },
      svg(index),
    ];
    await socket.daemon(...svgResult(0));
    // An image that got no SVG comes as its PNG, with the reason.
    await socket.daemon(
      { v, id, type: 'result', jobId: 'job1', index: 1, prompt: 'prompt 1', seed: 41, width: 64, height: 64, format: 'png', warning: 'no SVG: tracing failed', attachment: { byteLength: 5, mime: 'image/png' } },
      png(1),
    );
    await socket.daemon({ ...done(id), vector: { palettes: [{ colors: ['#112233', '#ffeedd'], images: [0] }], failed: [{ index: 1, warning: 'no SVG: tracing failed' }] } } as DaemonMessage);
    const svgOutput = { format: 'svg', transparent: true };
    expect(assets()).toEqual([
      { index: 0, record: { name: 'home', prompt: 'prompt 0', seed: 40, output: svgOutput, style: null }, image: { format: 'svg', svg: new TextDecoder().decode(svg(0)) }, width: 64, height: 64 },
      { index: 1, record: { name: 'search', prompt: 'prompt 1', seed: 41, output: svgOutput, style: null }, image: { format: 'png', png: png(1) }, width: 64, height: 64 },
    ]);
    expect(toMain.slice(-2)).toEqual([{ type: 'palette', colors: ['#112233', '#ffeedd'], total: 2 }, { type: 'end', end: { status: 'done' } }]);
    expect(views.at(-1)?.note).toBe('“search”: no SVG: tracing failed.');
  });

  it('asks for nothing vector for PNGs, so the daemon answers as before vector output', async () => {
    const { socket, toMain, deps } = harness();
    startSetRun({ names: 'home', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps);
    socket.connect();
    await socket.daemon(welcome());
    expect(socket.last()).toMatchObject({ options: { previewEvery: 5 } });
    expect(Object.keys((socket.last() as { options: object }).options)).toEqual(['previewEvery']);
    await socket.daemon(accepted(socket.idOf('submit')));
    await socket.daemon(done(socket.idOf('submit')));
    expect(toMain.some((m) => m.type === 'palette')).toBe(false);
  });

  it('ends with the main thread’s reason when the style’s layer cannot be exported, before anything is submitted', async () => {
    const gone = 'The style’s layer is no longer in this file: select a layer and click Use as style again.';
    const { socket, toMain, views, deps } = harness({
      exportReference: async () => {
        throw new DaemonProblem({ code: 'reference_unavailable', message: gone });
      },
    });
    startSetRun({ names: 'home', styleHint: '', referencePrompt: 'a star icon', output: PNG }, NONE, STAR, deps);
    socket.connect();
    await socket.daemon(welcome());
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    expect(socket.types()).toEqual(['hello', 'get_model']);
    expect(views.at(-1)).toMatchObject({ busy: false, error: { message: [gone] } });
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'failed', message: gone } });
  });

  it('renders a form problem without connecting or telling the main thread', () => {
    const { socket, toMain, views, deps } = harness();
    expect(startSetRun({ names: ' , ', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps)).toBeUndefined();
    expect(toMain).toEqual([]);
    expect(socket.sent).toEqual([]);
    expect(views).toEqual([{ busy: false, status: '', error: { message: [expect.any(String)], field: 'names' } }]);
  });

  it('checks the set against the limits the daemon announces, before submitting', async () => {
    const { socket, views, deps } = harness();
    startSetRun({ names: 'a, b, c', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps);
    socket.connect();
    await socket.daemon(welcome({ ...LIMITS, maxPromptsPerJob: 2 }));
    expect(socket.types()).toEqual(['hello']);
    expect(plainText(views.at(-1)!.error!.message)).toBe('The daemon refused the request: this daemon takes at most 2 images per set, and the set has 3');
    expect(views.at(-1)!.error!.field).toBe('names');
  });

  it('explains a rejected token and points at the token field; the toast gets plain words', async () => {
    const { socket, toMain, views, deps } = harness();
    startSetRun({ names: 'home', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps);
    socket.connect();
    await socket.daemon({ v, id: 'hello', type: 'error', code: 'unauthorized', message: 'wrong pairing token' });
    expect(views.at(-1)).toMatchObject({
      busy: false,
      error: { field: 'token', message: ['The daemon did not accept this pairing token. Run ', { code: 'npx styleset pair' }, ' in a terminal and paste the token it prints.'] },
    });
    expect(toMain.at(-1)).toEqual({
      type: 'end',
      end: { status: 'failed', message: 'The daemon did not accept this pairing token. Run npx styleset pair in a terminal and paste the token it prints.' },
    });
  });

  it('tells how to start a daemon that is not running', async () => {
    const { socket, views, deps } = harness();
    startSetRun({ names: 'home', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps);
    await socket.drop();
    expect(views.at(-1)?.error?.message).toEqual([`The Styleset daemon is not running at ${URL}. Start it in a terminal with `, { code: 'npx styleset serve' }, ', or at every login with ', { code: 'styleset service install' }, ', then try again.']);
  });

  it('ends a run stopped for a reason as that error, cancelling its job', async () => {
    const { socket, toMain, views, deps } = harness();
    const handle = startSetRun({ names: 'home, search', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps)!;
    socket.connect();
    await socket.daemon(welcome());
    const id = socket.idOf('submit');
    await socket.daemon(accepted(id));
    handle.stop('The frame “Icons” is no longer in this file: select a frame to fill.');
    expect(socket.last()).toMatchObject({ type: 'cancel', jobId: 'job1' });
    await socket.daemon(cancelled(id));
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'failed', message: 'The frame “Icons” is no longer in this file: select a frame to fill.' } });
    expect(views.at(-1)).toMatchObject({ busy: false, error: { message: ['The frame “Icons” is no longer in this file: select a frame to fill.'] } });
  });

  it('ends a run the designer cancelled as cancelled, counting what came', async () => {
    const { socket, toMain, views, deps } = harness();
    const handle = startSetRun({ names: 'home, search', styleHint: '', referencePrompt: '', output: PNG }, frameSelected, undefined, deps)!;
    socket.connect();
    await socket.daemon(welcome());
    const id = socket.idOf('submit');
    await socket.daemon(accepted(id));
    await socket.daemon(...result(id, 0));
    handle.stop();
    await socket.daemon(cancelled(id));
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'cancelled' } });
    expect(views.at(-1)).toMatchObject({ busy: false, status: 'Cancelled after 1 of 2 images.' });
  });

  it('stops between steps: cancelled during the export, it submits nothing', async () => {
    let exported!: (png: Uint8Array) => void;
    const { socket, toMain, deps } = harness({ exportReference: () => new Promise((resolve) => (exported = resolve)) });
    const handle = startSetRun({ names: 'home', styleHint: '', referencePrompt: 'a star icon', output: PNG }, NONE, STAR, deps)!;
    socket.connect();
    await socket.daemon(welcome());
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    handle.stop();
    exported(EXPORTED);
    await flush();
    expect(socket.types()).toEqual(['hello', 'get_model']);
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'cancelled' } });
  });
});

describe('startRegenerate', () => {
  const style = { referencePrompt: 'a star icon', inversionJobId: 'inv1', referenceNodeId: '1:2', referenceName: 'star' };
  const search = { name: 'search', prompt: 'a search icon', seed: 7, output: PNG, style };

  it('makes the one asset again with a new seed, reusing the set’s inversion, for its layer', async () => {
    const { socket, toMain, exports, deps, assets } = harness();
    startRegenerate('1:9', search, deps);
    expect(toMain).toEqual([{ type: 'begin', plan: { kind: 'regenerate', nodeId: '1:9' } }]);
    socket.connect();
    await socket.daemon(welcome());
    const id = socket.idOf('submit');
    expect(socket.last()).toEqual({
      v,
      id,
      type: 'submit',
      kind: 'reference',
      prompts: ['a search icon'],
      referencePrompt: 'a star icon',
      inversionJobId: 'inv1',
      options: { seed: 8, previewEvery: 5 },
    });
    await socket.daemon(accepted(id, 'job3', 0, 1));
    await socket.daemon(...result(id, 0, 8, 'job3'));
    await socket.daemon(done(id, 'job3', 1));
    expect(exports).toEqual([]);
    expect(assets()).toEqual([{ index: 0, record: { name: 'search', prompt: 'a search icon', seed: 8, output: PNG, style }, image: { format: 'png', png: png(0) }, width: 64, height: 64 }]);
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'done' } });
  });

  it('inverts the reference again when the daemon no longer has the inversion, and records the new one', async () => {
    const { socket, exports, deps, assets } = harness();
    startRegenerate('1:9', search, deps);
    socket.connect();
    await socket.daemon(welcome());
    await socket.daemon({ v, id: socket.idOf('submit'), type: 'error', code: 'job_not_found', message: 'no job inv1', field: 'inversionJobId' });
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    expect(exports).toEqual([['1:2', 64, 64]]);
    const inversion = socket.idOf('submit');
    expect(socket.last()).toMatchObject({ kind: 'inversion', referencePrompt: 'a star icon' });
    await socket.daemon(accepted(inversion, 'inv2', 0, 0));
    await socket.daemon(done(inversion, 'inv2', 0));
    const again = socket.idOf('submit');
    expect(socket.last()).toMatchObject({ kind: 'reference', inversionJobId: 'inv2', options: { seed: 8 } });
    await socket.daemon(accepted(again, 'job4', 0, 1));
    await socket.daemon(...result(again, 0, 8, 'job4'));
    await socket.daemon(done(again, 'job4', 1));
    expect(assets()[0].record.style).toEqual({ ...style, inversionJobId: 'inv2' });
  });

  it('says so when neither the daemon nor the file has the style any more', async () => {
    const { socket, views, deps } = harness({
      exportReference: async () => {
        throw new DaemonProblem({ code: 'reference_unavailable', message: 'gone' });
      },
    });
    startRegenerate('1:9', search, deps);
    socket.connect();
    await socket.daemon(welcome());
    await socket.daemon({ v, id: socket.idOf('submit'), type: 'error', code: 'job_not_found', message: 'no job inv1', field: 'inversionJobId' });
    await socket.daemon({ v, id: socket.idOf('get_model'), type: 'model', model: MODEL });
    expect(plainText(views.at(-1)!.error!.message)).toBe(
      'The daemon no longer has the style of “search”’s set, and its reference “star” is no longer in this file: select a layer, click Use as style and make the set again.',
    );
  });

  it('refuses an asset from a set made from names alone, without connecting', () => {
    const { socket, toMain, views, deps } = harness();
    expect(startRegenerate('1:9', { ...search, style: null }, deps)).toBeUndefined();
    expect(socket.sent).toEqual([]);
    expect(toMain).toEqual([]);
    expect(plainText(views[0].error!.message)).toMatch(/^“search” is from a set made from names alone/);
  });

  it('makes an SVG asset again as an SVG, cut out as it was', async () => {
    const { socket, deps } = harness();
    startRegenerate('1:9', { ...search, output: { format: 'svg', transparent: true } }, deps);
    socket.connect();
    await socket.daemon(welcome());
    expect(socket.last()).toMatchObject({ kind: 'reference', options: { seed: 8, format: 'svg', palette: 'set', background: 'transparent' } });
  });

  it('picks a seed other than the one it replaces', () => {
    const { socket, deps } = harness({ newSeed: (avoid) => avoid + 1 });
    startRegenerate('1:9', search, deps);
    socket.connect();
    return socket.daemon(welcome()).then(() => expect(socket.last()).toMatchObject({ options: { seed: 8 } }));
  });
});

describe('explain', () => {
  const sentence = (problem: Problem) => plainText(explain(problem, URL).message);
  const backticks = (message: Words) => message.some((span) => (typeof span === 'string' ? span : span.code).includes('`'));

  it('tells a dropped connection by how it closed, in words, never by its close code', () => {
    const lost = (closeCode: number, message = '') => sentence({ code: 'connection_lost', message, closeCode });
    expect(lost(1006)).toBe('The connection to the daemon broke off. If the daemon stopped, start it again with npx styleset serve, then try again.');
    expect(lost(1001, 'daemon stopping')).toBe('The daemon stopped while it made the set (it said: daemon stopping). Start it again with npx styleset serve, then try again.');
    expect(lost(1013)).toBe('The daemon is too busy to take this connection. Try again in a moment.');
    expect(lost(1009)).toMatch(/^The daemon closed the connection: a message was larger than it accepts\.$/);
    for (const closeCode of [1000, 1001, 1006, 1008, 1009, 1011, 1013, 4000]) expect(lost(closeCode)).not.toMatch(new RegExp(`\\b${closeCode}\\b|code`));
  });

  it('says what to change for an address Figma refused, pointing at the address', () => {
    expect(explain({ code: 'blocked', message: 'x' }, 'wss://styleset.team.example')).toEqual({
      message: [
        'Figma did not let the plugin connect to wss://styleset.team.example: this copy of the plugin may reach only the addresses in its manifest. Whoever installs it for your team adds this one to ',
        { code: 'networkAccess.allowedDomains' },
        ' in ',
        { code: 'manifest.json' },
        ' (see the README).',
      ],
      field: 'url',
    });
  });

  it('turns the daemon’s markdown into code spans, so no backtick reaches a person', () => {
    const explained = explain({ code: 'internal', message: 'no pairing token: run `styleset pair` to create one' }, URL).message;
    expect(explained).toEqual(['The daemon reported an error: no pairing token: run ', { code: 'styleset pair' }, ' to create one']);
    // A stray backtick is dropped, not shown.
    expect(sentence({ code: 'queue_full', message: 'too many `jobs' })).toBe('The daemon is busy: too many jobs. Try again when its current jobs have finished.');
    expect(sentence({ code: 'too_many_connections', message: 'the daemon already has 32 paired connections' })).toBe(
      'The daemon has as many connections as it takes: the daemon already has 32 paired connections. Try again in a moment.',
    );
    expect(sentence({ code: 'disk_full', message: 'no space left in /data' })).toBe('The daemon cannot store images: no space left in /data.');
    const codes = ['daemon_unreachable', 'unauthorized', 'version_mismatch', 'connection_lost', 'queue_full', 'too_many_connections', 'disk_full', 'invalid_input', 'bad_message', 'internal', 'blocked'] as const;
    for (const code of codes) expect(backticks(explain({ code, message: 'run `x`', closeCode: 1006 }, URL).message), code).toBe(false);
  });

  it('points a refused prompt at the field it came from', () => {
    expect(explain({ code: 'invalid_input', message: 'prompts.3 is empty', field: 'prompts.3' }, URL).field).toBe('names');
    expect(explain({ code: 'bad_message', message: 'too long', field: 'referencePrompt' }, URL).field).toBe('referencePrompt');
    expect(explain({ code: 'invalid_input', message: 'damaged', field: 'attachment' }, URL).field).toBeUndefined();
  });
});

describe('withSummary', () => {
  const failed: ViewState = { busy: false, status: '', error: { message: ['The daemon is gone.'], field: 'token' } };

  it('puts the main thread’s count in the status line, keeping an explained error', () => {
    expect(withSummary({ busy: false, status: 'Made 4 of 4 images.', fraction: 1 }, { status: 'Placed 4 images in “Icons”.', error: false })).toEqual({
      busy: false,
      status: 'Placed 4 images in “Icons”.',
      fraction: 1,
    });
    expect(withSummary(failed, { status: 'Placed 1 of 4 images in “Icons”.', error: true })).toEqual({ ...failed, status: 'Placed 1 of 4 images in “Icons”.' });
  });

  it('makes a shortfall nothing else explained the panel’s error', () => {
    const view: ViewState = { busy: false, status: 'Cancelled after 0 of 4 images.' };
    const stopped = 'Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.';
    expect(withSummary(view, { status: stopped, error: true })).toEqual({ busy: false, status: '', error: { message: [stopped] } });
  });
});
