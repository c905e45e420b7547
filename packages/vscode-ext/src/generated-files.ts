import { stat } from 'node:fs/promises';

/** Where VS Code keeps the extension's state for this workspace (`ExtensionContext.workspaceState`). */
export interface StateStore {
  get<T>(key: string, defaultValue: T): T;
  update(key: string, value: unknown): PromiseLike<void>;
}

interface Stamp {
  size: number;
  mtimeMs: number;
}

const KEY = 'styleset.generatedFiles';
/** Enough for any project's images; the oldest entries go first. */
const MAX_ENTRIES = 5000;

/**
 * The images Styleset wrote, by size and modification time. A file the placeholder glob matches
 * stops being a placeholder once Styleset has filled it, until something else changes it.
 */
export class GeneratedFiles {
  constructor(private readonly state: StateStore) {}

  async record(path: string): Promise<void> {
    const stamp = await stampOf(path);
    if (stamp === undefined) return;
    const entries = { ...this.state.get<Record<string, Stamp>>(KEY, {}) };
    delete entries[path];
    entries[path] = stamp;
    const paths = Object.keys(entries);
    for (const old of paths.slice(0, Math.max(0, paths.length - MAX_ENTRIES))) delete entries[old];
    await this.state.update(KEY, entries);
  }

  /** Whether the file is still exactly what Styleset wrote. */
  async isGenerated(path: string): Promise<boolean> {
    const recorded = this.state.get<Record<string, Stamp>>(KEY, {})[path];
    if (recorded === undefined) return false;
    const stamp = await stampOf(path);
    return stamp !== undefined && stamp.size === recorded.size && stamp.mtimeMs === recorded.mtimeMs;
  }
}

async function stampOf(path: string): Promise<Stamp | undefined> {
  const stats = await stat(path).catch(() => undefined);
  return stats === undefined ? undefined : { size: stats.size, mtimeMs: stats.mtimeMs };
}
