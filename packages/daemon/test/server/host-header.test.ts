import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostName, isAllowedHost } from '../../src/server/host-check';
import { httpStatus, TestDaemon } from './support/harness';

/**
 * The Host check against the real listener: only exact names pass (loopback ones and the
 * configured one), whatever an attacker puts before or after them. A suffix, prefix or substring
 * match lets one of these through.
 */
const CONFIGURED = 'styleset.team.example';

let test: TestDaemon;
let port: number;
beforeAll(async () => {
  test = await TestDaemon.start({ daemon: { allowedHosts: [CONFIGURED] } });
  port = test.daemon.port;
});
afterAll(async () => {
  await test.close();
});

const accepted = () => [
  'localhost',
  `localhost:${port}`,
  'LocalHost',
  `LOCALHOST:${port}`,
  '127.0.0.1',
  `127.0.0.1:${port}`,
  '[::1]',
  `[::1]:${port}`,
  CONFIGURED,
  `${CONFIGURED}:443`,
  'STYLESET.Team.Example',
  `Styleset.TEAM.example:${port}`,
];

const refused = () => [
  // An attacker's name that ends with an allowed one.
  'evil-localhost',
  'evillocalhost',
  `evil.localhost:${port}`,
  'EVIL-LOCALHOST',
  '1127.0.0.1',
  `evil-127.0.0.1:${port}`,
  `x.${CONFIGURED}`,
  `evil-${CONFIGURED}`,
  `evil${CONFIGURED}:443`,
  `X.${CONFIGURED.toUpperCase()}`,
  'team.example',
  // An allowed name followed by an attacker's: the allowed name as a subdomain of the attacker's domain.
  'localhost.attacker.example',
  `localhost.attacker.example:${port}`,
  'localhostevil',
  '127.0.0.1.attacker.example',
  '127.0.0.10',
  `127.0.0.1.nip.io:${port}`,
  `${CONFIGURED}.evil`,
  `x.${CONFIGURED}.evil`,
  `${CONFIGURED}.attacker.example:443`,
  `${CONFIGURED}x`,
  'Styleset.Team.Example.Attacker.Example',
  // IPv6 brackets around or next to other names.
  '[::1].attacker.example',
  '[::1]evil',
  'evil[::1]',
  `[::1]:${port}.attacker.example`,
  '[localhost]',
  `[${CONFIGURED}]`,
  '[::2]',
  '::1',
  '[::1',
  // Trailing dots: the same name to DNS, another string here; only exact names pass.
  'localhost.',
  `localhost.:${port}`,
  '127.0.0.1.',
  `${CONFIGURED}.`,
  `${CONFIGURED}.:443`,
  // Ports that are not ports.
  `localhost:${port}:${port}`,
  'localhost:',
  'localhost:http',
  `localhost:${port}evil`,
  'localhost evil',
];

describe('the Host check on the listener', () => {
  it('upgrades the exact loopback and configured names, with or without a port, in any case', async () => {
    for (const host of accepted()) expect(await httpStatus(port, host), host).toBe(101);
  });

  it('refuses names that only start, end or contain an allowed one, bracketed, dotted or with odd ports', async () => {
    const before = test.events.filter((e) => e.type === 'refused').length;
    for (const host of refused()) expect(await httpStatus(port, host), host).toBe(403);
    expect(test.events.filter((e) => e.type === 'refused').length - before).toBe(refused().length);
  });

  it('answers plain HTTP the same way: 426 for an allowed name, 403 for the rest', async () => {
    for (const host of accepted()) expect(await httpStatus(port, host, false), host).toBe(426);
    for (const host of refused()) expect(await httpStatus(port, host, false), host).toBe(403);
  });

  it('agrees with the pure function, which reads the name the same way', () => {
    for (const host of accepted()) expect(isAllowedHost(host, [CONFIGURED]), host).toBe(true);
    for (const host of refused()) expect(isAllowedHost(host, [CONFIGURED]), host).toBe(false);
    expect(hostName(`Evil-LocalHost:${port}`)).toBe('evil-localhost');
    expect(hostName('[::1]:80')).toBe('[::1]');
  });
});
