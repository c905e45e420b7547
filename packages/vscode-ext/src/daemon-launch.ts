import { DEFAULT_PORT } from '@styleset/protocol';
import { join } from 'node:path';

/**
 * How "Start Daemon" starts one: the command typed into a terminal, and the folder it runs in.
 * Only for a daemon on this machine (see `isLoopback`).
 */

/** The configured command as it is; else `npx styleset serve`, on the port the URL names. */
export function daemonCommand(url: string, configured: string): string {
  if (configured.trim() !== '') return configured.trim();
  const port = portOf(url);
  return port === undefined || port === DEFAULT_PORT ? 'npx styleset serve' : `npx styleset serve --port ${port}`;
}

/**
 * A workspace folder where `npx` finds Styleset installed (a clone, or a project that depends on
 * it), so the daemon matches that copy; else the home folder, so that the daemon does not run
 * inside an unrelated project (npx then uses a global install or the registry's).
 */
export async function daemonFolder(folders: readonly string[], home: string, exists: (path: string) => Promise<boolean>): Promise<string> {
  for (const folder of folders) {
    if (await exists(join(folder, 'node_modules', '.bin', 'styleset'))) return folder;
  }
  return home;
}

function portOf(url: string): number | undefined {
  try {
    const { port, protocol } = new URL(url);
    // wss:// is a TLS proxy's address; the daemon behind it keeps its own port.
    if (protocol === 'wss:') return undefined;
    return port === '' ? 80 : Number(port);
  } catch {
    return undefined;
  }
}
