// The typed Node client the daemon ships for scripts and tests; it depends only on the protocol,
// `ws` and the daemon's error class, so the bundle stays free of the diffusion code.
import { StylesetClient } from '../../daemon/src/server/client';

export type { StylesetClient };

/** Connects and pairs: resolves once the daemon has welcomed the token. */
export function connectDaemon(url: string, token: string): Promise<StylesetClient> {
  return StylesetClient.connect({ url, token });
}
