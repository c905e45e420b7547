import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../packages/vscode-ext/src/settings';

const packageDir = join(import.meta.dirname, '../packages/vscode-ext');
let dist: string;
let bundle: string;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'styleset-vscode-dist-'));
  await promisify(execFile)(process.execPath, [join(packageDir, 'build.mjs'), dist]);
  bundle = await readFile(join(dist, 'extension.cjs'), 'utf8');
});

afterAll(async () => {
  await rm(dist, { recursive: true, force: true });
});

/** The extension's manifest: the commands and settings it declares. */
async function fragment() {
  return JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
}

/** Loads the bundle as the extension host does, with a stand-in for the `vscode` module it provides. */
function load(vscode: object): { activate(context: object): void } {
  const module = { exports: {} as { activate(context: object): void } };
  const nodeRequire = createRequire(join(dist, 'extension.cjs'));
  const require = (id: string) => (id === 'vscode' ? vscode : nodeRequire(id));
  new Function('require', 'module', 'exports', '__filename', '__dirname', bundle)(require, module, module.exports, join(dist, 'extension.cjs'), dist);
  return module.exports;
}

describe('the extension bundle', () => {
  it('is CommonJS that requires vscode, and bundles ws and the protocol rather than requiring them', () => {
    const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
    expect(required).toContain('vscode');
    for (const id of required) expect(id).toMatch(/^(?:vscode|bufferutil|utf-8-validate|node:.*|[a-z_]+)$/);
    for (const id of ['ws', 'zod', '@styleset/protocol', 'onnxruntime-node']) expect(required).not.toContain(id);
    expect(bundle).not.toContain('onnxruntime');
  });

  it('registers exactly the commands package.json contributes, and activates on them', async () => {
    const registered: string[] = [];
    const vscode = { commands: { registerCommand: (id: string) => (registered.push(id), { dispose() {} }) } };
    const context = { subscriptions: [] as unknown[] };
    load(vscode).activate(context);
    const { contributes, activationEvents, main } = await fragment();
    expect(registered).toEqual(contributes.commands.map((c: { command: string }) => c.command));
    expect(context.subscriptions).toHaveLength(registered.length);
    expect(activationEvents).toEqual(registered.map((id) => `onCommand:${id}`));
    expect(main).toBe('./dist/extension.cjs');
    expect(contributes.commands.map((c: { category: string; title: string }) => `${c.category}: ${c.title}`)).toContain('Styleset: Generate placeholder images');
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
    const shown: string[] = [];
    const handlers = new Map<string, () => Promise<void>>();
    const vscode = {
      commands: { registerCommand: (id: string, handler: () => Promise<void>) => (handlers.set(id, handler), { dispose() {} }) },
      window: { activeTextEditor: undefined, showInformationMessage: async (message: string) => void shown.push(message) },
      workspace: { getConfiguration: () => ({ get: () => undefined }) },
    };
    load(vscode).activate({ subscriptions: [] });
    await handlers.get('styleset.generatePlaceholdersInFile')!();
    expect(shown).toEqual(['Styleset: open the file whose images should be generated first.']);
  });
});
