import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * This installation's `bin/styleset.js`, the command a service runs. The bundle runs from dist/,
 * the sources from src/cli/: look relative to either.
 */
export function cliScript(): string {
  for (const rel of ['../bin/styleset.js', '../../bin/styleset.js']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return fileURLToPath(new URL('../bin/styleset.js', import.meta.url));
}

/** npm keeps what `npx` fetched in a cache folder it may clear at any time. */
export function inNpxCache(path: string): boolean {
  return /[\\/]_npx[\\/]/.test(path);
}
