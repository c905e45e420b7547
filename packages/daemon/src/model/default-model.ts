import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The id the embedded icon model is offered under. */
export const EMBEDDED_MODEL_ID = 'default';

/**
 * The embedded default model ships in packages/daemon/models/default. The bundles run from
 * dist/, the sources (tests) from src/model/: look relative to either.
 */
export function defaultModelDir(): string {
  for (const rel of ['../models/default', '../../models/default']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('../models/default', import.meta.url));
}
