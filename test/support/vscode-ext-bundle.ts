// The VS Code extension as VS Code loads it, for the tests that run it in the scripted host
// (support/vscode-host.ts): packages/vscode-ext/build.mjs's bundle.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const VSCODE_EXT_DIR = join(import.meta.dirname, '../../packages/vscode-ext');
/** Where the extension keeps the pairing token in VS Code's secret storage (its src/token.ts). */
export const TOKEN_KEY = 'styleset.pairingToken';

/** Builds the bundle into `dist` and returns its source (dist/extension.cjs). */
export async function buildExtensionBundle(dist: string): Promise<string> {
  await promisify(execFile)(process.execPath, [join(VSCODE_EXT_DIR, 'build.mjs'), dist]);
  return readFile(join(dist, 'extension.cjs'), 'utf8');
}
