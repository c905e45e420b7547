// The typed Node client the daemon ships for scripts and tests; it depends only on the protocol,
// `ws` and the daemon's error class, so the bundle stays free of the diffusion code.
import { StylesetClient } from '../../daemon/src/server/client';

export type { StylesetClient };

/** Connects and pairs: resolves once the daemon has welcomed the token. */
export function connectDaemon(url: string, token: string): Promise<StylesetClient> {
  return StylesetClient.connect({ url, token });
}

export type FailureKind = 'unreachable' | 'unauthorized' | 'other';

/**
 * What to tell the user about an error from connecting, from the daemon (`error`, `job_error`,
 * both with a protocol `code`) or from writing a file, and whether asking for a new token helps.
 */
export function describeFailure(error: unknown, url: string): { kind: FailureKind; message: string } {
  const { code, detail } = partsOf(error);
  switch (code) {
    case 'daemon_unreachable':
      return {
        kind: 'unreachable',
        message: `Styleset: the daemon is not running at ${url}. Start it in a terminal with \`styleset serve\` (or correct the setting styleset.daemonUrl).`,
      };
    case 'unauthorized':
      return { kind: 'unauthorized', message: 'Styleset: the daemon did not accept the pairing token. Run `styleset pair` in a terminal and enter the token it prints.' };
    case 'version_mismatch':
      return { kind: 'other', message: `Styleset: this extension and the daemon speak different protocol versions (${detail}). Update whichever is older.` };
    case 'connection_closed':
      return { kind: 'other', message: `Styleset: the connection to the daemon was lost (${detail}). Is \`styleset serve\` still running?` };
    case 'queue_full':
      return { kind: 'other', message: `Styleset: the daemon is busy (${detail}). Try again when its current jobs have finished.` };
    case 'invalid_option':
    case 'model_not_found':
      return { kind: 'other', message: `Styleset: ${detail}. Check the settings styleset.model and styleset.steps.` };
    default:
      return { kind: 'other', message: `Styleset: ${detail}` };
  }
}

function partsOf(error: unknown): { code?: string; detail: string } {
  if (typeof error !== 'object' || error === null) return { detail: String(error) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, detail: typeof message === 'string' ? message : String(error) };
}
