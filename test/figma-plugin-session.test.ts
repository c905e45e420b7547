import {
  LIMITS,
  PROTOCOL_VERSION,
  decodeClientMessage,
  encodeMessage,
  type ClientMessage,
  type DaemonMessage,
  type Frame,
  type Limits,
} from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import type { UiToMain } from '../packages/figma-plugin/src/messages';
import { explain, type Problem } from '../packages/figma-plugin/src/problems';
import { checkForm, startRun, withSummary, type ViewState } from '../packages/figma-plugin/src/run';
import { GenerationSession, type OpenSocket, type SessionEvent, type SocketListener } from '../packages/figma-plugin/src/session';
import { plainText, type Words } from '../packages/figma-plugin/src/text';

const URL = 'ws://127.0.0.1:7391';
const v = PROTOCOL_VERSION;

/**
 * A socket whose daemon side the test scripts with real protocol frames. Everything the session
 * sends is decoded with the protocol, so a malformed request fails the test.
 */
class ScriptedSocket {
  readonly sent: ClientMessage[] = [];
  closed = false;
  private listener?: SocketListener;

  readonly open: OpenSocket = (_url, listener) => {
    this.listener = listener;
    return {
      send: (frame) => {
        const decoded = decodeClientMessage(frame);
        if (!decoded.ok) throw new Error(`the session sent an invalid message: ${decoded.error.message}`);
        this.sent.push(decoded.message);
      },
      close: () => (this.closed = true),
    };
  };

  connect(): void {
    this.listener!.open();
  }

  /** Encodes with the protocol; a binary frame arrives as an ArrayBuffer, as in a browser. */
  daemon(message: DaemonMessage, bytes?: Uint8Array): void {
    const frame = encodeMessage(message, bytes);
    this.raw(typeof frame === 'string' ? frame : frame.slice().buffer);
  }

  raw(frame: Frame): void {
    this.listener!.frame(frame);
  }

  drop(code = 1006, reason = ''): void {
    this.listener!.close(code, reason);
  }

  types(): string[] {
    return this.sent.map((message) => message.type);
  }
}

const welcome = (limits: Limits = LIMITS): DaemonMessage => ({ v, id: 'hello', type: 'welcome', daemonVersion: '0.1.0', limits, defaultModel: 'tiny' });
const accepted = (position = 0): DaemonMessage => ({ v, id: 'submit', type: 'accepted', jobId: 'job1', position, count: 2 });
const png = (seed: number) => new Uint8Array([0x89, 0x50, 0x4e, 0x47, seed]);
const result = (index: number): [DaemonMessage, Uint8Array] => [
  { v, id: 'submit', type: 'result', jobId: 'job1', index, prompt: `prompt ${index}`, seed: 40 + index, width: 64, height: 64, attachment: { byteLength: 5, mime: 'image/png' } },
  png(index),
];
const done: DaemonMessage = { v, id: 'submit', type: 'done', jobId: 'job1', count: 2, timings: { queuedMs: 0, runMs: 5, phases: {} } };

function session(prompts = ['a home icon', 'a search icon']) {
  const socket = new ScriptedSocket();
  const events: SessionEvent[] = [];
  const run = new GenerationSession({ url: URL, token: 'secret', prompts }, socket.open, (event) => events.push(event));
  run.start();
  return { socket, events, run, finished: () => events.filter((e) => e.type === 'finished') };
}

describe('GenerationSession', () => {
  it('pairs, submits the set, hands out each binary result, and finishes on done', () => {
    const { socket, events, finished } = session();
    socket.connect();
    expect(socket.sent).toEqual([{ v, id: 'hello', type: 'hello', token: 'secret' }]);
    socket.daemon(welcome());
    expect(socket.sent[1]).toEqual({ v, id: 'submit', type: 'submit', kind: 'set', prompts: ['a home icon', 'a search icon'], options: { previewEvery: 5 } });
    socket.daemon(accepted());
    socket.daemon({ v, id: 'submit', type: 'status', jobId: 'job1', kind: 'set', state: 'running', completed: 0, count: 2 });
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'denoising', step: 2, total: 4 });
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'denoising', step: 3, total: 4, attachment: { byteLength: 5, mime: 'image/png' } }, png(9));
    socket.daemon(...result(0));
    socket.daemon(...result(1));
    socket.daemon(done);

    expect(events.filter((e) => e.type === 'state').map((e) => e.state)).toEqual(['connecting', 'pairing', 'submitting', 'running']);
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress[0]).toMatchObject({ phase: 'denoising', step: 2, total: 4, fraction: expect.closeTo(0.575) });
    expect(progress[0]).not.toHaveProperty('preview');
    expect(progress[1]).toMatchObject({ step: 3, preview: png(9) });
    const results = events.flatMap((e) => (e.type === 'result' ? [e.result] : []));
    expect(results).toEqual([
      { index: 0, prompt: 'prompt 0', seed: 40, width: 64, height: 64, png: png(0) },
      { index: 1, prompt: 'prompt 1', seed: 41, width: 64, height: 64, png: png(1) },
    ]);
    expect(finished()).toEqual([{ type: 'finished', outcome: { status: 'done', count: 2 } }]);
    expect(socket.closed).toBe(true);
  });

  it('reports the queue position until the job starts', () => {
    const { socket, events } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted(2));
    socket.daemon({ v, id: 'submit', type: 'status', jobId: 'job1', kind: 'set', state: 'queued', position: 1, completed: 0, count: 2 });
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'loading', step: 0, total: 1 });
    expect(events.filter((e) => e.type === 'state').slice(-3)).toEqual([
      { type: 'state', state: 'queued', position: 2 },
      { type: 'state', state: 'queued', position: 1 },
      { type: 'state', state: 'running' },
    ]);
  });

  it('reports a daemon that is not running: the socket closed before it opened', () => {
    const { socket, finished } = session();
    socket.drop(1006);
    expect(finished()).toEqual([
      { type: 'finished', outcome: { status: 'failed', completed: 0, problem: { code: 'daemon_unreachable', message: `nothing answered at ${URL}` } } },
    ]);
  });

  it('reports a rejected token as unauthorized, once, even though the daemon then closes', () => {
    const { socket, finished } = session();
    socket.connect();
    socket.daemon({ v, id: 'hello', type: 'error', code: 'unauthorized', message: 'wrong pairing token: run `styleset pair`' });
    socket.drop(1008, 'unauthorized');
    expect(finished()).toEqual([
      { type: 'finished', outcome: { status: 'failed', completed: 0, problem: { code: 'unauthorized', message: 'wrong pairing token: run `styleset pair`' } } },
    ]);
    expect(socket.types()).toEqual(['hello']);
  });

  it('reports a daemon of another protocol version, naming both versions', () => {
    const { socket, finished } = session();
    socket.connect();
    socket.raw(JSON.stringify({ v: PROTOCOL_VERSION + 1, id: 'hello', type: 'welcome', something: 'new' }));
    const [{ outcome }] = finished() as Extract<SessionEvent, { type: 'finished' }>[];
    expect(outcome).toMatchObject({ status: 'failed', problem: { code: 'version_mismatch', field: 'v' } });
    expect(outcome.status === 'failed' && outcome.problem.message).toContain(`protocol version ${PROTOCOL_VERSION + 1}; this client speaks version ${PROTOCOL_VERSION}`);
    expect(socket.closed).toBe(true);
  });

  it('reports an unreadable frame instead of throwing', () => {
    const { socket, finished } = session();
    socket.connect();
    socket.raw(new Uint8Array([0, 0, 0, 99, 1]).buffer);
    expect(finished()[0]).toMatchObject({ outcome: { status: 'failed', problem: { code: 'bad_message' } } });
  });

  it('keeps the images a failed job delivered, and reports its error', () => {
    const { socket, events, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    socket.daemon(...result(0));
    socket.daemon({ v, id: 'submit', type: 'job_error', jobId: 'job1', code: 'internal', message: 'out of memory' });
    expect(events.filter((e) => e.type === 'result')).toHaveLength(1);
    expect(finished()).toEqual([
      { type: 'finished', outcome: { status: 'failed', completed: 1, problem: { code: 'internal', message: 'out of memory' } } },
    ]);
  });

  it('reports a refused submission with the field the daemon names', () => {
    const { socket, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon({ v, id: 'submit', type: 'error', code: 'invalid_option', message: 'options.steps must be at most 200', field: 'options.steps' });
    expect(finished()[0]).toMatchObject({ outcome: { status: 'failed', problem: { code: 'invalid_option', field: 'options.steps' } } });
  });

  it('reports a connection dropped mid-job, with the close code and reason', () => {
    const { socket, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    socket.drop(1001, 'daemon stopping');
    expect(finished()[0]).toEqual({
      type: 'finished',
      outcome: { status: 'failed', completed: 0, problem: { code: 'connection_lost', message: 'daemon stopping', closeCode: 1001 } },
    });
  });

  it('checks the set against the limits the daemon announces, before submitting', () => {
    const { socket, finished } = session(['a', 'b', 'c']);
    socket.connect();
    socket.daemon(welcome({ ...LIMITS, maxPromptsPerJob: 2 }));
    expect(socket.types()).toEqual(['hello']);
    expect(finished()[0]).toMatchObject({ outcome: { status: 'failed', problem: { code: 'invalid_input', field: 'prompts' } } });
  });

  it('cancels a running job on the daemon and ends on its cancelled job_error', () => {
    const { socket, events, run, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    socket.daemon(...result(0));
    run.cancel();
    run.cancel();
    expect(socket.sent.filter((m) => m.type === 'cancel')).toEqual([{ v, id: 'cancel', type: 'cancel', jobId: 'job1' }]);
    expect(events.at(-1)).toEqual({ type: 'state', state: 'cancelling' });
    socket.daemon({ v, id: 'submit', type: 'job_error', jobId: 'job1', code: 'cancelled', message: 'job job1 was cancelled' });
    socket.daemon({ v, id: 'cancel', type: 'status', jobId: 'job1', kind: 'set', state: 'cancelled', completed: 1, count: 2 });
    expect(finished()).toEqual([{ type: 'finished', outcome: { status: 'cancelled', completed: 1 } }]);
  });

  it('cancels a submission in flight as soon as it is accepted', () => {
    const { socket, run, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    run.cancel();
    expect(finished()).toEqual([]);
    socket.daemon(accepted());
    expect(socket.types()).toEqual(['hello', 'submit', 'cancel']);
    socket.daemon({ v, id: 'submit', type: 'job_error', jobId: 'job1', code: 'cancelled', message: 'cancelled' });
    expect(finished()).toEqual([{ type: 'finished', outcome: { status: 'cancelled', completed: 0 } }]);
  });

  it('ends at once when cancelled before anything was submitted', () => {
    const { socket, run, finished } = session();
    socket.connect();
    run.cancel();
    expect(finished()).toEqual([{ type: 'finished', outcome: { status: 'cancelled', completed: 0 } }]);
    expect(socket.closed).toBe(true);
    socket.daemon(welcome());
    expect(socket.types()).toEqual(['hello']);
  });

  it('ignores the error a cancel gets when the job had just ended, and finishes on done', () => {
    const { socket, run, finished } = session();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    run.cancel();
    socket.daemon({ v, id: 'cancel', type: 'error', code: 'job_not_found', message: 'no job job1' });
    socket.daemon(done);
    expect(finished()).toEqual([{ type: 'finished', outcome: { status: 'done', count: 2 } }]);
  });
});

describe('checkForm', () => {
  const frame = { frame: { name: 'Icons', width: 400, height: 400 } };

  it('asks for a frame, then a token, then names, each pointing at its field', () => {
    expect(checkForm({ names: 'home', styleHint: '', token: 't' }, { frame: null, hint: 'Select a frame.' })).toEqual({ error: { message: ['Select a frame.'] } });
    expect(checkForm({ names: 'home', styleHint: '', token: '  ' }, frame)).toEqual({
      error: {
        message: ['Paste the pairing token: run ', { code: 'npx styleset pair' }, ' in a terminal and copy the token it prints.'],
        field: 'token',
      },
    });
    expect(checkForm({ names: ' , ', styleHint: '', token: 't' }, frame)).toEqual({ error: { message: [expect.any(String)], field: 'names' } });
  });
});

describe('startRun', () => {
  function start(names = 'home, search, home') {
    const socket = new ScriptedSocket();
    const toMain: UiToMain[] = [];
    const views: ViewState[] = [];
    const handle = startRun(
      { names, styleHint: 'flat', token: ' secret ' },
      { frame: { name: 'Icons', width: 400, height: 400 } },
      { url: URL, openSocket: socket.open, toMain: (m) => toMain.push(m), render: (view) => views.push(view) },
    );
    return { socket, toMain, views, handle };
  }

  it('saves the token, sends each image to the main thread by name, and ends with done', () => {
    const { socket, toMain, views } = start();
    socket.connect();
    socket.daemon(welcome());
    expect(socket.sent[0]).toMatchObject({ type: 'hello', token: 'secret' });
    expect(socket.sent[1]).toMatchObject({ type: 'submit', prompts: ['a home icon, flat', 'a search icon, flat'] });
    socket.daemon(accepted());
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'denoising', step: 1, total: 4 });
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'denoising', step: 2, total: 4, attachment: { byteLength: 5, mime: 'image/png' } }, png(7));
    socket.daemon({ v, id: 'submit', type: 'progress', jobId: 'job1', phase: 'denoising', step: 3, total: 4 });
    socket.daemon(...result(1));
    socket.daemon(...result(0));
    socket.daemon(done);
    // The preview stays until a newer one or the end of the run.
    expect(views.filter((view) => view.status === 'Denoising, step 3 of 4').at(-1)?.preview).toEqual(png(7));
    expect(views.at(-1)?.preview).toBeUndefined();
    expect(toMain).toEqual([
      { type: 'save-token', token: 'secret' },
      { type: 'begin', count: 2 },
      { type: 'image', index: 1, name: 'search', png: png(1), width: 64, height: 64 },
      { type: 'image', index: 0, name: 'home', png: png(0), width: 64, height: 64 },
      { type: 'end', end: { status: 'done' } },
    ]);
    expect(views[0]).toMatchObject({ busy: true, status: 'Connecting to the daemon…', note: 'Repeated names made once: home' });
    expect(views.find((view) => view.fraction !== undefined && view.fraction < 1)?.status).toBe('Denoising, step 1 of 4');
    // What was placed, only the main thread knows: its summary has the last word.
    expect(views.at(-1)).toMatchObject({ busy: false, fraction: 1, status: 'Made 2 of 2 images.' });
  });

  it('renders a form problem without connecting or telling the main thread', () => {
    const { toMain, views, handle } = start(' , ');
    expect(handle).toBeUndefined();
    expect(toMain).toEqual([]);
    expect(views).toEqual([{ busy: false, status: '', error: { message: [expect.any(String)], field: 'names' } }]);
  });

  it('explains a rejected token and points at the token field', () => {
    const { socket, toMain, views } = start();
    socket.connect();
    socket.daemon({ v, id: 'hello', type: 'error', code: 'unauthorized', message: 'wrong pairing token' });
    expect(views.at(-1)).toMatchObject({
      busy: false,
      error: { field: 'token', message: ['The daemon did not accept this pairing token. Run ', { code: 'npx styleset pair' }, ' in a terminal and paste the token it prints.'] },
    });
    // The toast shows plain text: the command as words, no markdown.
    expect(toMain.at(-1)).toEqual({
      type: 'end',
      end: { status: 'failed', message: 'The daemon did not accept this pairing token. Run npx styleset pair in a terminal and paste the token it prints.' },
    });
  });

  it('tells how to start a daemon that is not running', () => {
    const { socket, views } = start();
    socket.drop();
    expect(views.at(-1)?.error?.message).toEqual([`The Styleset daemon is not running at ${URL}. Start it in a terminal with `, { code: 'npx styleset serve' }, ', or at every login with ', { code: 'styleset service install' }, ', then try again.']);
  });

  it('explains a version mismatch', () => {
    const { socket, views } = start();
    socket.connect();
    socket.raw(JSON.stringify({ v: PROTOCOL_VERSION + 1, type: 'welcome' }));
    expect(plainText(views.at(-1)!.error!.message)).toMatch(/different protocol versions .*Update whichever is older/);
  });

  it('ends a run stopped for a reason as that error', () => {
    const { socket, toMain, views, handle } = start();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    handle!.stop('Select a frame first: the images go inside it.');
    expect(socket.sent.at(-1)).toMatchObject({ type: 'cancel', jobId: 'job1' });
    socket.daemon({ v, id: 'submit', type: 'job_error', jobId: 'job1', code: 'cancelled', message: 'cancelled' });
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'failed', message: 'Select a frame first: the images go inside it.' } });
    expect(views.at(-1)).toMatchObject({ busy: false, error: { message: ['Select a frame first: the images go inside it.'] } });
  });

  it('ends a run the designer cancelled as cancelled', () => {
    const { socket, toMain, views, handle } = start();
    socket.connect();
    socket.daemon(welcome());
    socket.daemon(accepted());
    socket.daemon(...result(0));
    handle!.stop();
    socket.daemon({ v, id: 'submit', type: 'job_error', jobId: 'job1', code: 'cancelled', message: 'cancelled' });
    expect(toMain.at(-1)).toEqual({ type: 'end', end: { status: 'cancelled' } });
    expect(views.at(-1)).toMatchObject({ busy: false, status: 'Cancelled after 1 of 2 images.' });
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

  it('turns the daemon’s markdown into code spans, so no backtick reaches a person', () => {
    const explained = explain({ code: 'internal', message: 'no pairing token: run `styleset pair` to create one' }, URL).message;
    expect(explained).toEqual(['The daemon reported an error: no pairing token: run ', { code: 'styleset pair' }, ' to create one']);
    // A stray backtick is dropped, not shown.
    expect(sentence({ code: 'queue_full', message: 'too many `jobs' })).toBe('The daemon is busy: too many jobs. Try again when its current jobs have finished.');
    expect(sentence({ code: 'too_many_connections', message: 'the daemon already has 32 paired connections' })).toBe(
      'The daemon has as many connections as it takes: the daemon already has 32 paired connections. Try again in a moment.',
    );
    expect(sentence({ code: 'disk_full', message: 'no space left in /data' })).toBe('The daemon cannot store images: no space left in /data.');
    const codes = ['daemon_unreachable', 'unauthorized', 'version_mismatch', 'connection_lost', 'queue_full', 'too_many_connections', 'disk_full', 'invalid_input', 'bad_message', 'internal'] as const;
    for (const code of codes) expect(backticks(explain({ code, message: 'run `x`', closeCode: 1006 }, URL).message), code).toBe(false);
  });
});

describe('withSummary', () => {
  const failed: ViewState = { busy: false, status: '', error: { message: ['The daemon is gone.'], field: 'token' } };

  it('puts the main thread’s count in the status line, keeping an explained error', () => {
    expect(withSummary({ busy: false, status: 'Made 4 of 4 images.', fraction: 1 }, { type: 'summary', status: 'Placed 4 images in “Icons”.', error: false })).toEqual({
      busy: false,
      status: 'Placed 4 images in “Icons”.',
      fraction: 1,
    });
    expect(withSummary(failed, { type: 'summary', status: 'Placed 1 of 4 images in “Icons”.', error: true })).toEqual({ ...failed, status: 'Placed 1 of 4 images in “Icons”.' });
  });

  it('makes a shortfall nothing else explained the panel’s error', () => {
    const view: ViewState = { busy: false, status: 'Cancelled after 0 of 4 images.' };
    const stopped = 'Stopped: the frame “Icons” was deleted; 4 of 4 images were not placed.';
    expect(withSummary(view, { type: 'summary', status: stopped, error: true })).toEqual({ busy: false, status: '', error: { message: [stopped] } });
  });
});
