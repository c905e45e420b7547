import { mkdtemp, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configPath, loadConfig, localUrl } from '../../src/config/config-file';
import { resolveDirs } from '../../src/config/paths';
import { loadOrCreateToken, readToken, tokenPath, tokensEqual } from '../../src/config/token';

describe('data and config folders', () => {
  const home = '/home/ada';
  it('follows XDG on Linux, ignoring relative XDG values', () => {
    expect(resolveDirs({}, { platform: 'linux', env: {}, home })).toEqual({
      dataDir: '/home/ada/.local/share/styleset',
      configDir: '/home/ada/.config/styleset',
    });
    expect(resolveDirs({}, { platform: 'linux', env: { XDG_DATA_HOME: '/xdg/data', XDG_CONFIG_HOME: 'relative' }, home })).toEqual({
      dataDir: '/xdg/data/styleset',
      configDir: '/home/ada/.config/styleset',
    });
  });

  it('uses Application Support and Preferences on macOS', () => {
    expect(resolveDirs({}, { platform: 'darwin', env: {}, home: '/Users/ada' })).toEqual({
      dataDir: '/Users/ada/Library/Application Support/Styleset',
      configDir: '/Users/ada/Library/Preferences/Styleset',
    });
  });

  it('uses Local and Roaming AppData on Windows', () => {
    const env = { LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local', APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' };
    expect(resolveDirs({}, { platform: 'win32', env, home: 'C:\\Users\\ada' })).toEqual({
      dataDir: 'C:\\Users\\ada\\AppData\\Local\\Styleset\\Data',
      configDir: 'C:\\Users\\ada\\AppData\\Roaming\\Styleset\\Config',
    });
  });

  it('lets the environment override the convention, and flags override the environment', () => {
    const env = { STYLESET_DATA_DIR: '/env/data', STYLESET_CONFIG_DIR: '/env/config' };
    expect(resolveDirs({}, { platform: 'linux', env, home })).toEqual({ dataDir: '/env/data', configDir: '/env/config' });
    expect(resolveDirs({ dataDir: '/flag/data' }, { platform: 'darwin', env, home })).toEqual({ dataDir: '/flag/data', configDir: '/env/config' });
  });
});

describe('files in the config folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'styleset-config-')), 'nested', 'config');
  });
  afterEach(async () => {
    await rm(join(dir, '..', '..'), { recursive: true, force: true });
  });

  it('creates a random token once, readable by its owner only, in an owner-only folder', async () => {
    const token = await loadOrCreateToken(dir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await loadOrCreateToken(dir)).toBe(token);
    expect(await readToken(dir)).toBe(token);
    if (process.platform !== 'win32') {
      expect((await stat(tokenPath(dir))).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    }
  });

  it('agrees on one token when several processes create it at once', async () => {
    const tokens = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateToken(dir)));
    expect(new Set(tokens).size).toBe(1);
    expect((await readFile(tokenPath(dir), 'utf8')).trim()).toBe(tokens[0]);
  });

  it.skipIf(process.platform === 'win32')('takes back permissions a copied token file lost', async () => {
    await loadOrCreateToken(dir);
    await chmod(tokenPath(dir), 0o644);
    await readToken(dir);
    expect((await stat(tokenPath(dir))).mode & 0o777).toBe(0o600);
  });

  it('says how to make a token when there is none', async () => {
    await expect(readToken(dir)).rejects.toThrow(/no pairing token in .*token: run `styleset pair`/);
  });

  it('compares tokens without leaking their length', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcdef')).toBe(false);
    expect(tokensEqual('', 'abc')).toBe(false);
  });

  it('reads config.json, resolving model folders against the config folder', async () => {
    expect(await loadConfig(dir)).toEqual({});
    await loadOrCreateToken(dir);
    await writeFile(configPath(dir), JSON.stringify({ port: 9000, allowedHosts: ['gpu.example'], models: { sdxl: 'models/sdxl', abs: '/srv/m' } }));
    expect(await loadConfig(dir)).toEqual({
      port: 9000,
      allowedHosts: ['gpu.example'],
      models: { sdxl: join(dir, 'models/sdxl'), abs: '/srv/m' },
    });
  });

  it('names the file and the field of a bad config', async () => {
    await loadOrCreateToken(dir);
    await writeFile(configPath(dir), JSON.stringify({ prot: 9000 }));
    await expect(loadConfig(dir)).rejects.toThrow(`${configPath(dir)}: prot:`);
    await writeFile(configPath(dir), JSON.stringify({ port: 'x' }));
    await expect(loadConfig(dir)).rejects.toThrow(`${configPath(dir)}: port:`);
    await writeFile(configPath(dir), '{ port: 1 }');
    await expect(loadConfig(dir)).rejects.toThrow(/not valid JSON/);
  });

  it('gives the loopback URL of a daemon on every interface', () => {
    expect(localUrl('0.0.0.0', 7391)).toBe('ws://127.0.0.1:7391');
    expect(localUrl('::1', 80)).toBe('ws://[::1]:80');
    expect(localUrl('gpu.example', 1)).toBe('ws://gpu.example:1');
  });
});
