import type { ErrorCode } from '@styleset/protocol';
import { code, fromMarkdown, words, type Words } from './text';

/**
 * Why a run stopped short. Besides the protocol's codes: nothing answered at the daemon's address,
 * an open connection dropped, Figma refused the address (the manifest's `networkAccess`), or the
 * style's layer could not be exported.
 */
export interface Problem {
  code: ErrorCode | 'daemon_unreachable' | 'connection_lost' | 'blocked' | 'reference_unavailable';
  /** As the daemon (or the decoder) worded it; for a dropped connection, the close reason, if any. */
  message: string;
  field?: string;
  /** The WebSocket close code of a dropped connection: it tells a crash from a shutdown. */
  closeCode?: number;
}

/** The panel's fields an explanation can point at. */
export type Field = 'token' | 'names' | 'referencePrompt' | 'url';

export interface Explanation {
  /** What happened and what to do, commands marked as code. */
  message: Words;
  /** The form field to fix, so the panel can point at it. */
  field?: Field;
}

/** The daemon's commands, as the README gives them. */
const SERVE = code('npx styleset serve');
const PAIR = code('npx styleset pair');
/** Starts the daemon at every login (README, Install). */
const SERVICE = code('styleset service install');

/** WebSocket close codes (RFC 6455) the daemon or the network end a connection with. */
const GOING_AWAY = 1001;
const TOO_BIG = 1009;
const TRY_AGAIN_LATER = 1013;

/** Tells the designer what happened and what to do about it, in plain sentences. */
export function explain(problem: Problem, url: string): Explanation {
  const said = fromMarkdown(problem.message);
  switch (problem.code) {
    case 'daemon_unreachable':
      return { message: words`The Styleset daemon is not running at ${url}. Start it in a terminal with ${SERVE}, or at every login with ${SERVICE}, then try again.` };
    case 'blocked':
      return {
        message: words`Figma did not let the plugin connect to ${url}: this copy of the plugin may reach only the addresses in its manifest. Whoever installs it for your team adds this one to ${code('networkAccess.allowedDomains')} in ${code('manifest.json')} (see the README).`,
        field: 'url',
      };
    case 'reference_unavailable':
      return { message: said };
    case 'unauthorized':
      return {
        message: words`The daemon did not accept this pairing token. Run ${PAIR} in a terminal and paste the token it prints.`,
        field: 'token',
      };
    case 'version_mismatch':
      return { message: words`This plugin and the daemon speak different protocol versions (${said}). Update whichever is older.` };
    case 'connection_lost':
      return { message: connectionLost(problem.closeCode, said) };
    case 'queue_full':
      return { message: words`The daemon is busy: ${said}. Try again when its current jobs have finished.` };
    case 'too_many_connections':
      return { message: words`The daemon has as many connections as it takes: ${said}. Try again in a moment.` };
    case 'disk_full':
    case 'storage_unwritable':
      return { message: words`The daemon cannot store images: ${said}.` };
    case 'style_not_found':
    case 'model_mismatch':
      // A saved style gone from the daemon, or its model there no longer the one it was made on.
      return { message: words`${said}. Pick another saved style, or use a layer as the style.` };
    case 'invalid_input':
    case 'bad_message':
      return { message: words`The daemon refused the request: ${said}`, field: fieldOf(problem.field) };
    default:
      return { message: words`The daemon reported an error: ${said}` };
  }
}

/** The panel field behind a request field the daemon names: prompts come from the names, `referencePrompt` from its own field. */
function fieldOf(requestField: string | undefined): Field | undefined {
  if (requestField?.startsWith('prompts')) return 'names';
  if (requestField === 'referencePrompt') return 'referencePrompt';
  return undefined;
}

/** A dropped connection, by how it closed; close codes mean nothing to a designer, so none is shown. */
function connectionLost(closeCode: number | undefined, reason: Words): Words {
  const because = reason.length === 0 ? words`` : words` (it said: ${reason})`;
  switch (closeCode) {
    case GOING_AWAY:
      return words`The daemon stopped while it made the set${because}. Start it again with ${SERVE}, then try again.`;
    case TOO_BIG:
      return words`The daemon closed the connection: a message was larger than it accepts${because}.`;
    case TRY_AGAIN_LATER:
      return words`The daemon is too busy to take this connection${because}. Try again in a moment.`;
    default:
      return words`The connection to the daemon broke off${because}. If the daemon stopped, start it again with ${SERVE}, then try again.`;
  }
}
