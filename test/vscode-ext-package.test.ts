import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VscodeHost } from './support/vscode-host';
import { zipEntries } from './support/zip-entries';

/**
 * The .vsix as `npm run package -w styleset-vscode` builds it (package.mjs, with the project's own
 * vsce, offline): what it holds and what its manifest says. About 3 s, most of it the bundle.
 */

const packageDir = join(import.meta.dirname, '../packages/vscode-ext');
let out: string;
let entries: Map<string, Buffer>;
let manifest: Record<string, unknown>;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'styleset-vsix-'));
  await promisify(execFile)(process.execPath, [join(packageDir, 'package.mjs'), out], { cwd: packageDir });
  const built = await readdir(out);
  expect(built).toEqual(['styleset-vscode-0.1.0.vsix']);
  entries = await zipEntries(join(out, built[0]));
  manifest = JSON.parse(entries.get('extension/package.json')!.toString('utf8'));
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('the packaged extension', () => {
  it('holds the bundle, the WebP encoder, its manifest, README and licence, and nothing else', () => {
    expect([...entries.keys()].sort()).toEqual([
      '[Content_Types].xml',
      'extension.vsixmanifest',
      'extension/LICENSE.txt',
      'extension/dist/extension.cjs',
      // The WebP encoder (libwebp in WebAssembly), loaded next to the bundle.
      'extension/dist/webp_enc_simd.wasm',
      'extension/package.json',
      'extension/readme.md',
    ]);
  });

  it('carries a bundle with every dependency inside it, which activates and registers the commands', () => {
    const bundle = entries.get('extension/dist/extension.cjs')!.toString('utf8');
    expect(bundle).not.toMatch(/require\("(?:ws|zod|@styleset\/protocol)"\)/);
    const host = new VscodeHost(out, []);
    host.activate(bundle, join(out, 'dist'));
    const { commands } = manifest.contributes as { commands: { command: string }[] };
    expect([...host.commands.keys()].sort()).toEqual(commands.map((command) => command.command).sort());
    expect(entries.get('extension/dist/webp_enc_simd.wasm')).toEqual(readFileSync(join(packageDir, 'dist/webp_enc_simd.wasm')));
  });

  it('has the manifest VS Code reads: entry point, engine, licence, commands and settings', async () => {
    const source = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: 'styleset-vscode',
      publisher: 'styleset',
      main: './dist/extension.cjs',
      license: 'MIT',
      engines: { vscode: source.engines.vscode },
      contributes: source.contributes,
      activationEvents: source.activationEvents,
    });
    const xml = entries.get('extension.vsixmanifest')!.toString('utf8');
    expect(xml).toContain('<Identity Language="en-US" Id="styleset-vscode" Version="0.1.0" Publisher="styleset" />');
    expect(xml).toContain('<License>extension/LICENSE.txt</License>');
    expect(entries.get('extension/LICENSE.txt')!.toString('utf8')).toBe(await readFile(join(packageDir, 'LICENSE'), 'utf8'));
  });
});
