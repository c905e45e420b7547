import type { StyleInfo } from '@styleset/protocol';
import { DaemonConnection, DaemonProblem, type OpenSocket } from './daemon-client';
import { explain, type Explanation } from './problems';
import type { SavedStyle } from './style';
import { code, words } from './text';

/** A style the daemon keeps, as the panel offers it. */
export function savedStyleOf(info: StyleInfo): SavedStyle {
  return { kind: 'saved', name: info.name, prompt: info.prompt, width: info.options.width, height: info.options.height, model: info.model.id };
}

/** "Saved style: “a fox”, 32 × 32, model tiny": the card's line under its name. */
export function describeSavedStyle(style: SavedStyle): string {
  return `Saved style of “${style.prompt}”, ${style.width} × ${style.height}, model ${style.model}`;
}

/**
 * The styles the daemon keeps (everyone who uses it shares them), over a connection of their own,
 * or why they cannot be listed.
 */
export async function loadSavedStyles(url: string, token: string, openSocket: OpenSocket): Promise<{ styles: SavedStyle[] } | { error: Explanation }> {
  if (token.trim() === '') {
    return { error: { message: words`Paste the pairing token: run ${code('npx styleset pair')} in a terminal and copy the token it prints.`, field: 'token' } };
  }
  let connection: DaemonConnection | undefined;
  try {
    ({ connection } = await DaemonConnection.open(url, token, openSocket));
    return { styles: (await connection.listStyles()).map(savedStyleOf) };
  } catch (error) {
    if (error instanceof DaemonProblem) return { error: explain(error.problem, url) };
    throw error;
  } finally {
    connection?.close();
  }
}
