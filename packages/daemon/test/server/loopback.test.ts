import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { localUrl } from '../../src/config/config-file';
import { StylesetClient } from '../../src/server/client';
import { listen } from '../../src/server/ws-server';
import { httpStatus, TestDaemon } from './support/harness';

let test: TestDaemon | undefined;
afterEach(async () => {
  await test?.close();
  test = undefined;
});

/** Whether this machine can listen on ::1 at all (IPv6 may be off). */
async function hasIpv6Loopback(): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

async function pairs(url: string, token: string): Promise<boolean> {
  const client = await StylesetClient.connect({ url, token });
  const models = await client.listModels();
  await client.close();
  return models.length > 0;
}

describe('the loopback addresses', () => {
  it('listens on 127.0.0.1 and ::1 by default, so [::1], which the Host check accepts, reaches it', async () => {
    test = await TestDaemon.start({ daemon: { host: undefined } });
    const { port, url } = test.daemon;
    expect(url).toBe(`ws://127.0.0.1:${port}`);
    expect(localUrl('localhost', port)).toBe(url);
    expect(await pairs(`ws://127.0.0.1:${port}`, test.token)).toBe(true);
    expect(await pairs(`ws://localhost:${port}`, test.token)).toBe(true);
    if (await hasIpv6Loopback()) {
      expect(test.daemon.addresses).toEqual(['127.0.0.1', '::1']);
      expect(await pairs(`ws://[::1]:${port}`, test.token)).toBe(true);
    } else {
      // A machine without IPv6 still starts, says so, and [::1] is refused outright.
      expect(test.daemon.addresses).toEqual(['127.0.0.1']);
      expect(test.events).toContainEqual({ type: 'warning', message: expect.stringContaining('not listening on ::1') });
      await expect(StylesetClient.connect({ url: `ws://[::1]:${port}`, token: test.token })).rejects.toMatchObject({ code: 'daemon_unreachable' });
    }
  });

  it('on an explicit 127.0.0.1 only, refuses [::1] at once rather than leaving it waiting', async () => {
    test = await TestDaemon.start({ daemon: { host: '127.0.0.1' } });
    const { port } = test.daemon;
    expect(test.daemon.addresses).toEqual(['127.0.0.1']);
    await expect(StylesetClient.connect({ url: `ws://[::1]:${port}`, token: test.token })).rejects.toMatchObject({ code: 'daemon_unreachable' });
    // The name is still a loopback name: through 127.0.0.1 it is accepted.
    expect(await httpStatus(port, `[::1]:${port}`)).toBe(101);
  });

  it('starts without an optional address the machine lacks, and fails on a required one', async () => {
    const skipped: string[] = [];
    const common = {
      port: 0,
      allowedHosts: [],
      closeTimeoutMs: 1000,
      onConnection: () => {},
      onRefused: () => {},
      onSkipped: (host: string, error: NodeJS.ErrnoException) => skipped.push(`${host} ${error.code}`),
    };
    // 192.0.2.1 is TEST-NET-1: documentation only, never on a machine's interfaces.
    const listener = await listen({ ...common, addresses: [{ host: '127.0.0.1' }, { host: '192.0.2.1', optional: true }] });
    expect(listener.hosts).toEqual(['127.0.0.1']);
    expect(skipped).toEqual(['192.0.2.1 EADDRNOTAVAIL']);
    await listener.close();
    await expect(listen({ ...common, addresses: [{ host: '127.0.0.1' }, { host: '192.0.2.1' }] })).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });
});
