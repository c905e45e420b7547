import { LIMITS, PROTOCOL_VERSION } from '@styleset/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { StylesetClient } from '../../src/server/client';
import { TestDaemon, httpStatus } from './support/harness';

let test: TestDaemon;
afterEach(async () => {
  await test.close();
});

describe('pairing', () => {
  it('welcomes a client whose first message is hello with the token', async () => {
    test = await TestDaemon.start();
    const socket = await test.socket();
    socket.send({ v: PROTOCOL_VERSION, id: 'h1', type: 'hello', token: test.token });
    const { message } = await socket.next();
    expect(message).toMatchObject({ type: 'welcome', id: 'h1', defaultModel: 'tiny', limits: LIMITS });
    expect(message.type === 'welcome' && message.daemonVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses a wrong token with unauthorized and closes the connection', async () => {
    test = await TestDaemon.start();
    const socket = await test.socket();
    socket.send({ v: PROTOCOL_VERSION, id: 'h1', type: 'hello', token: 'not-the-token' });
    expect((await socket.next()).message).toMatchObject({ type: 'error', id: 'h1', code: 'unauthorized', message: expect.stringContaining('styleset pair') });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'unauthorized' });
    await expect(StylesetClient.connect({ url: test.url, token: 'x'.repeat(43) })).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('refuses any other first message, and keeps nothing it sent', async () => {
    test = await TestDaemon.start();
    const socket = await test.socket();
    socket.send({ v: PROTOCOL_VERSION, id: 's1', type: 'submit', kind: 'set', prompts: ['a star'] });
    expect((await socket.next()).message).toMatchObject({ type: 'error', id: 's1', code: 'unauthorized', message: expect.stringContaining('first message must be hello') });
    expect((await socket.closed).code).toBe(1008);
    expect(test.engine.jobs).toHaveLength(0);
  });

  it('answers an unreadable first frame with its decode error, then closes', async () => {
    test = await TestDaemon.start();
    const socket = await test.socket();
    socket.send(JSON.stringify({ v: 99, id: 'h1', type: 'hello', token: test.token }));
    expect((await socket.next()).message).toMatchObject({ type: 'error', id: 'h1', code: 'version_mismatch', field: 'v' });
    expect((await socket.closed).code).toBe(1008);
  });

  it('closes a connection that does not say hello in time', async () => {
    test = await TestDaemon.start({ daemon: { helloTimeoutMs: 100 } });
    const socket = await test.socket();
    expect((await socket.next()).message).toMatchObject({ type: 'error', code: 'unauthorized', message: expect.stringContaining('no hello') });
    expect((await socket.closed).code).toBe(1008);
  });

  it('answers a second hello with an error and keeps the connection', async () => {
    test = await TestDaemon.start();
    const socket = await test.pairedSocket();
    socket.send({ v: PROTOCOL_VERSION, id: 'h2', type: 'hello', token: test.token });
    expect((await socket.next()).message).toMatchObject({ type: 'error', id: 'h2', code: 'bad_message' });
    socket.send({ v: PROTOCOL_VERSION, id: 'm', type: 'list_models' });
    expect((await socket.next()).message).toMatchObject({ type: 'models', id: 'm' });
  });

  it('does not look at Origin: a null origin pairs with the token and is refused without it', async () => {
    test = await TestDaemon.start();
    const figma = await test.socket({ headers: { Origin: 'null' } });
    figma.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: test.token });
    expect((await figma.next()).message.type).toBe('welcome');
    const attacker = await test.socket({ headers: { Origin: 'null' } });
    attacker.send({ v: PROTOCOL_VERSION, id: 'h', type: 'hello', token: 'guess' });
    expect((await attacker.next()).message).toMatchObject({ code: 'unauthorized' });
  });
});

describe('heartbeat', () => {
  it('drops a client that stops answering pings, and keeps one that answers', async () => {
    test = await TestDaemon.start({ daemon: { heartbeatMs: 200 } });
    const silent = await test.socket({ autoPong: false });
    const alive = await test.pairedSocket();
    expect((await silent.closed).code).toBe(1006);
    alive.send({ v: PROTOCOL_VERSION, id: 'm', type: 'list_models' });
    expect((await alive.next()).message.type).toBe('models');
  });
});

describe('Host header (DNS rebinding)', () => {
  it('upgrades loopback names with or without a port', async () => {
    test = await TestDaemon.start();
    const { port } = test.daemon;
    for (const host of ['localhost', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'LOCALHOST']) {
      expect(await httpStatus(port, host), host).toBe(101);
    }
  });

  it('refuses an empty, missing, foreign or malformed Host with 403', async () => {
    test = await TestDaemon.start();
    const { port } = test.daemon;
    for (const host of [undefined, '', 'attacker.example', `attacker.example:${port}`, 'localhost.attacker.example', '127.0.0.1.nip.io', 'a b']) {
      expect(await httpStatus(port, host), String(host)).toBe(403);
    }
    expect(test.events.filter((e) => e.type === 'refused').length).toBeGreaterThanOrEqual(6);
  });

  it('accepts names configured for a proxy in front of it', async () => {
    test = await TestDaemon.start({ daemon: { allowedHosts: ['gpu.team.example'] } });
    const { port } = test.daemon;
    expect(await httpStatus(port, 'gpu.team.example')).toBe(101);
    expect(await httpStatus(port, 'GPU.team.example:443')).toBe(101);
    expect(await httpStatus(port, 'other.team.example')).toBe(403);
    const client = await StylesetClient.connect({ url: test.url, token: test.token, headers: { Host: 'gpu.team.example' } });
    expect(client.welcome.defaultModel).toBe('tiny');
    await client.close();
  });

  it('tells a client why its Host was refused', async () => {
    test = await TestDaemon.start();
    const connecting = StylesetClient.connect({ url: test.url, token: test.token, headers: { Host: 'gpu.team.example' } });
    await expect(connecting).rejects.toMatchObject({ code: 'daemon_refused', message: expect.stringContaining('HTTP 403: the daemon does not accept this Host name') });
  });

  it('answers plain HTTP with 426 and refuses a foreign Host there too', async () => {
    test = await TestDaemon.start();
    expect(await httpStatus(test.daemon.port, 'localhost', false)).toBe(426);
    expect(await httpStatus(test.daemon.port, 'attacker.example', false)).toBe(403);
  });
});
