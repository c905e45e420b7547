import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../packages/vscode-ext/src/settings';
import { VscodeHost } from './support/vscode-host';
import { VSCODE_EXT_DIR, buildExtensionBundle } from './support/vscode-ext-bundle';

const packageDir = VSCODE_EXT_DIR;
let dist: string;
let bundle: string;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'styleset-vscode-dist-'));
  bundle = await buildExtensionBundle(dist);
});

afterAll(async () => {
  await rm(dist, { recursive: true, force: true });
});

/** The extension's manifest: the commands and settings it declares. */
async function fragment() {
  return JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
}

describe('the extension bundle', () => {
  it('is CommonJS that requires vscode, and bundles ws and the protocol rather than requiring them', () => {
    const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
    expect(required).toContain('vscode');
    for (const id of required) expect(id).toMatch(/^(?:vscode|bufferutil|utf-8-validate|node:.*|[a-z_]+)$/);
    for (const id of ['ws', 'zod', '@styleset/protocol', 'onnxruntime-node']) expect(required).not.toContain(id);
    expect(bundle).not.toContain('onnxruntime');
  });

  it('registers exactly the commands package.json contributes, the quick fixes and the diagnostics, and activates at start-up', async () => {
    const host = new VscodeHost(dist, []);
    host.activate(bundle, dist);
    const { contributes, activationEvents, main } = await fragment();
    expect([...host.commands.keys()].sort()).toEqual(contributes.commands.map((c: { command: string }) => c.command).sort());
    expect(host.codeActionProviders).toHaveLength(1);
    // Diagnostics for files already open when VS Code starts: it activates once start-up is done.
    expect(activationEvents).toEqual(['onStartupFinished']);
    expect(main).toBe('./dist/extension.cjs');
    expect(contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`)).toContain('Styleset: Generate placeholder images');
    // The quick fixes' commands need their arguments: not in the Command Palette.
    const hidden = contributes.menus.commandPalette.filter((entry: { when: string }) => entry.when === 'false').map((entry: { command: string }) => entry.command);
    expect(hidden).toEqual(['styleset.generateImage', 'styleset.generateAllInFile']);
    expect(contributes.menus['explorer/context']).toEqual([{ command: 'styleset.useAsStyle', when: expect.stringContaining('resourceExtname'), group: expect.any(String) }]);
  });

  it('declares every setting the code reads, with the same defaults', async () => {
    const { properties } = (await fragment()).contributes.configuration;
    const declared = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key.replace(/^styleset\./, ''), (value as { default: unknown }).default]));
    expect(declared).toEqual(DEFAULT_SETTINGS satisfies Settings);
    // A workspace must not choose where the token goes, nor what "Start Daemon" runs.
    expect(properties['styleset.daemonUrl'].scope).toBe('machine');
    expect(properties['styleset.daemonCommand'].scope).toBe('machine');
  });

  it('runs a command through the bundle: with no file open, it says what to do', async () => {
    const host = new VscodeHost(dist, []);
    host.activate(bundle, dist);
    await host.run('styleset.generatePlaceholdersInFile');
    expect(host.shown).toEqual([{ kind: 'info', message: 'Styleset: open the file whose images should be generated first.', buttons: [] }]);
  });
});
