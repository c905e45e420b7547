import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The embedded default model ships in packages/daemon/models/default. The CLI bundle runs from
 * dist/, the sources (tests) from src/cli/: look relative to either.
 */
export function defaultModelDir(): string {
  for (const rel of ['../models/default', '../../models/default']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('../models/default', import.meta.url));
}
