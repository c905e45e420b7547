import { DEFAULT_PORT, ERROR_CODES } from '@styleset/protocol';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonCommand, daemonFolder } from '../packages/vscode-ext/src/daemon-launch';
import { ACTION_TITLES, explainFailure, isLoopback, type FailureAction } from '../packages/vscode-ext/src/failures';

const local = { url: `ws://127.0.0.1:${DEFAULT_PORT}` };
const remote = { url: 'wss://styleset.team.example' };

/** A connection failure as the daemon's client reports it: the socket error as its cause. */
function unreachable(url: string, cause: object) {
  return Object.assign(new Error(`cannot reach the daemon at ${url}: ${(cause as Error).message ?? 'failed'}`), { code: 'daemon_unreachable', cause });
}
const socketError = (code: string, message = `connect ${code}`) => Object.assign(new Error(message), { code });

const retry: FailureAction = { kind: 'retry' };
const startDaemon: FailureAction = { kind: 'startDaemon' };
const settings = (setting: string): FailureAction => ({ kind: 'openSettings', setting });
const enterToken: FailureAction = { kind: 'enterToken' };

/** The first sentence: a collapsed notification shows about this much. */
const INSTRUCTION_CHARS = 72;

describe('explainFailure: connecting', () => {
  it('offers to start a daemon on this machine that is not running', () => {
    const failure = explainFailure(unreachable(local.url, socketError('ECONNREFUSED')), local);
    expect(failure.message).toBe(`Styleset: start the daemon, then retry. Nothing answers at ${local.url}; 'styleset service install' starts the daemon at every login.`);
    expect(failure.actions).toEqual([startDaemon, retry, settings('styleset.daemonUrl')]);
  });

  it('recognises a refusal that Node reports for both addresses of localhost', () => {
    const url = 'ws://localhost:7391';
    const both = Object.assign(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' });
    const withoutCode = new AggregateError([socketError('ECONNREFUSED')], '');
    expect(explainFailure(unreachable(url, both), { url }).actions[0]).toEqual(startDaemon);
    expect(explainFailure(unreachable(url, withoutCode), { url }).actions[0]).toEqual(startDaemon);
  });

  it('does not offer to start a daemon on another machine', () => {
    const failure = explainFailure(unreachable(remote.url, socketError('ECONNREFUSED')), remote);
    expect(failure.message).toBe(`Styleset: start the daemon on its machine, then retry. Nothing answers at ${remote.url}.`);
    expect(failure.actions).toEqual([retry, settings('styleset.daemonUrl')]);
  });

  it('points an unknown host at the URL setting', () => {
    const failure = explainFailure(unreachable('ws://stylset-box:7391', socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND stylset-box')), { url: 'ws://stylset-box:7391' });
    expect(failure.message).toBe('Styleset: correct styleset.daemonUrl. The host in ws://stylset-box:7391 is unknown (ENOTFOUND).');
    expect(failure.actions).toEqual([settings('styleset.daemonUrl')]);
  });

  it('offers a retry and the setting when the daemon does not answer in time', () => {
    const failure = explainFailure(unreachable(local.url, new Error('WebSocket was closed before the connection was established')), local);
    expect(failure.message).toMatch(/^Styleset: check styleset\.daemonUrl, then retry\. ws:\/\/127\.0\.0\.1:7391 did not answer: cannot reach/);
    expect(failure.actions).toEqual([retry, settings('styleset.daemonUrl')]);
  });

  it('tells another server from a Host check refusal', () => {
    const other = explainFailure({ code: 'daemon_refused', message: 'ws://127.0.0.1:8080 refused the connection with HTTP 404' }, local);
    expect(other.message).toBe('Styleset: correct styleset.daemonUrl: it is not a Styleset daemon. ws://127.0.0.1:8080 refused the connection with HTTP 404.');
    const host = explainFailure({ code: 'daemon_refused', message: 'ws://box:7391 refused the connection with HTTP 403: the daemon does not accept this Host name' }, remote);
    expect(host.message).toMatch(/^Styleset: add this host name to the daemon's allowedHosts\. /);
    expect([other.actions, host.actions]).toEqual([[settings('styleset.daemonUrl')], [settings('styleset.daemonUrl')]]);
    const busy = explainFailure({ code: 'daemon_refused', message: 'ws://127.0.0.1:7391 refused the connection with HTTP 503' }, local);
    expect(busy.message).toBe('Styleset: retry when the daemon has fewer connections. ws://127.0.0.1:7391 refused the connection with HTTP 503.');
    expect(busy.actions).toEqual([retry]);
  });

  it('asks for the token when it is wrong or missing', () => {
    expect(explainFailure({ code: 'unauthorized', message: 'wrong pairing token' }, local)).toMatchObject({
      message: "Styleset: enter the token that 'styleset pair' prints. The daemon did not accept the stored pairing token.",
      actions: [enterToken],
    });
    expect(explainFailure({ code: 'token_missing', message: 'no token' }, local)).toMatchObject({
      message: "Styleset: enter the token that 'styleset pair' prints. The daemon needs its pairing token once.",
      actions: [enterToken],
    });
  });

  it('offers a retry, and to start a local daemon again, when the daemon goes away', () => {
    const lost = { code: 'connection_closed', message: 'the connection to the daemon closed (1006)' };
    expect(explainFailure(lost, local)).toMatchObject({
      message: 'Styleset: retry: the connection to the daemon was lost. The connection to the daemon closed (1006).',
      actions: [retry, startDaemon],
    });
    expect(explainFailure(lost, remote).actions).toEqual([retry]);
    expect(explainFailure({ code: 'interrupted', message: 'the daemon stopped' }, local).actions).toEqual([retry, startDaemon]);
  });
});

describe('explainFailure: the daemon\'s error codes', () => {
  const detail = 'what the daemon said';
  const expected: Record<string, [string, FailureAction[]]> = {
    queue_full: ["Retry when the daemon's queue has room", [retry]],
    too_many_connections: ['Retry when the daemon has fewer connections', [retry]],
    disk_full: ["Free disk space on the daemon's machine, then retry", [retry]],
    storage_unwritable: ["Make the daemon's data folder writable, then retry", [retry]],
    model_not_found: ['Choose an installed model in styleset.model', [settings('styleset.model')]],
    model_invalid: ['Repair the model folder or choose another in styleset.model', [settings('styleset.model')]],
    version_mismatch: ['Update the extension or the daemon, whichever is older', []],
    bad_message: ['Update the extension and the daemon to the same version', []],
    unknown_type: ['Update the extension and the daemon to the same version', []],
    job_not_found: ['Retry: the daemon lost track of the job', [retry]],
    internal: ['Retry: the daemon hit an internal error', [retry]],
    invalid_input: ['', []],
    too_large: ['', []],
    invalid_option: ['Correct the Styleset settings', [settings('styleset')]],
    style_not_found: ['Choose a style the daemon keeps in styleset.savedStyle', [settings('styleset.savedStyle')]],
    model_mismatch: ['Choose another style in styleset.savedStyle', [settings('styleset.savedStyle')]],
  };

  it.each(Object.entries(expected))('%s', (code, [instruction, actions]) => {
    const failure = explainFailure({ code, message: detail }, local);
    expect(failure).toEqual({
      message: instruction === '' ? 'Styleset: What the daemon said.' : `Styleset: ${instruction[0].toLowerCase()}${instruction.slice(1)}. What the daemon said.`,
      instruction,
      detail: 'What the daemon said.',
      actions,
    });
  });

  it('has a message, the instruction first and short, for every code of the protocol', () => {
    for (const code of ERROR_CODES) {
      const failure = explainFailure({ code, message: `0${'x'.repeat(1000)}` }, local);
      const { instruction } = failure;
      const lead = instruction === '' ? 'Styleset: ' : `Styleset: ${instruction[0].toLowerCase()}${instruction.slice(1)}. `;
      expect(failure.message.startsWith(lead)).toBe(true);
      expect(`Styleset: ${failure.instruction}.`.length).toBeLessThanOrEqual(INSTRUCTION_CHARS);
      // The daemon's words follow (a refused token is said in the extension's own), cut so that
      // the notification stays short; the detail keeps them whole.
      if (code !== 'unauthorized') expect(failure.message).toContain('x'.repeat(200));
      expect(failure.message.length).toBeLessThan(INSTRUCTION_CHARS + 250);
      expect(failure.detail).toContain('x'.repeat(1000));
    }
  });

  it('names the setting behind a refused option, and the style hint behind a refused prompt', () => {
    expect(explainFailure({ code: 'invalid_option', message: 'steps must be at most 200', field: 'options.steps' }, local)).toMatchObject({
      message: 'Styleset: correct styleset.steps. Steps must be at most 200.',
      actions: [settings('styleset.steps')],
    });
    expect(explainFailure({ code: 'invalid_option', message: 'unknown model', field: 'options.model' }, local).actions).toEqual([settings('styleset.model')]);
    expect(explainFailure({ code: 'too_large', message: 'prompt 3 is over 2000 characters', field: 'prompts.3' }, local)).toMatchObject({
      message: 'Styleset: shorten the alt text or styleset.styleHint. Prompt 3 is over 2000 characters.',
      actions: [settings('styleset.styleHint')],
    });
  });

  it('points a setting the extension checks at that setting, keeping its name as written', () => {
    const failure = explainFailure({ code: 'invalid_setting', message: 'styleset.steps: Too big: expected number to be <=200', field: 'styleset.steps' }, local);
    expect(failure.message).toBe('Styleset: correct styleset.steps. styleset.steps: Too big: expected number to be <=200.');
    expect(failure.actions).toEqual([settings('styleset.steps')]);
  });

  it('says where a file could not be written and offers a retry', () => {
    const failure = explainFailure({ code: 'write_failed', message: 'cannot write /w/img/a.png: EACCES: permission denied' }, local);
    expect(failure.message).toBe('Styleset: check that the folder is writable, then retry. Cannot write /w/img/a.png: EACCES: permission denied.');
    expect(failure.actions).toEqual([retry]);
  });

  it('passes on what it does not know, with a retry', () => {
    expect(explainFailure({ code: 'some_future_code', message: 'no space left in /data/jobs' }, local)).toMatchObject({ message: 'Styleset: No space left in /data/jobs.', actions: [retry] });
    expect(explainFailure(new Error('odd'), local)).toMatchObject({ message: 'Styleset: Odd.', actions: [retry] });
    expect(explainFailure('odd', local)).toMatchObject({ message: 'Styleset: Odd.', actions: [retry] });
  });

  it('titles every action as a button', () => {
    expect(ACTION_TITLES).toEqual({ openSettings: 'Open Settings', retry: 'Retry', startDaemon: 'Start Daemon', enterToken: 'Enter Token' });
  });
});

describe('starting the daemon', () => {
  it('only for an address on this machine', () => {
    expect(['ws://127.0.0.1:7391', 'ws://localhost:9000', 'ws://[::1]:7391'].map(isLoopback)).toEqual([true, true, true]);
    expect(['ws://192.168.1.4:7391', 'wss://styleset.team.example', 'ws://localhost.evil:7391', 'nonsense'].map(isLoopback)).toEqual([false, false, false, false]);
  });

  it('runs npx styleset serve on the port of the URL, or the configured command as it is', () => {
    expect(daemonCommand(`ws://127.0.0.1:${DEFAULT_PORT}`, '')).toBe('npx styleset serve');
    expect(daemonCommand('ws://127.0.0.1:9123', '')).toBe('npx styleset serve --port 9123');
    expect(daemonCommand('ws://localhost', '')).toBe('npx styleset serve --port 80');
    expect(daemonCommand('wss://localhost', '  ')).toBe('npx styleset serve');
    expect(daemonCommand('ws://127.0.0.1:9123', ' node ~/styleset/packages/daemon/bin/styleset.js serve ')).toBe('node ~/styleset/packages/daemon/bin/styleset.js serve');
  });

  it('in the workspace folder that has Styleset installed, else the home folder', async () => {
    const installed = new Set([join('/work/b', 'node_modules', '.bin', 'styleset')]);
    const exists = async (path: string) => installed.has(path);
    expect(await daemonFolder(['/work/a', '/work/b'], '/home/me', exists)).toBe('/work/b');
    expect(await daemonFolder(['/work/a'], '/home/me', exists)).toBe('/home/me');
    expect(await daemonFolder([], '/home/me', exists)).toBe('/home/me');
  });
});
