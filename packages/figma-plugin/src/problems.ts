import type { ErrorCode } from '@styleset/protocol';

/**
 * Why a run stopped short. Besides the protocol's codes: nothing answered at the daemon's address,
 * or an open connection dropped.
 */
export interface Problem {
  code: ErrorCode | 'daemon_unreachable' | 'connection_lost';
  /** As the daemon (or the decoder) worded it. */
  message: string;
  field?: string;
}

export interface Explanation {
  message: string;
  /** The form field to fix, so the panel can point at it. */
  field?: 'token' | 'names';
}

/** Tells the designer what happened and what to do about it. */
export function explain(problem: Problem, url: string): Explanation {
  switch (problem.code) {
    case 'daemon_unreachable':
      return {
        message: `The Styleset daemon is not running at ${url}. Start it in a terminal with \`styleset serve\`, then try again.`,
      };
    case 'unauthorized':
      return {
        message: 'The daemon did not accept this pairing token. Run `styleset pair` in a terminal and paste the token it prints.',
        field: 'token',
      };
    case 'version_mismatch':
      return {
        message: `This plugin and the daemon speak different protocol versions (${problem.message}). Update whichever is older.`,
      };
    case 'connection_lost':
      return { message: `The connection to the daemon was lost (${problem.message}). Is \`styleset serve\` still running?` };
    case 'queue_full':
      return { message: `The daemon is busy: ${problem.message}. Try again when its current jobs have finished.` };
    case 'invalid_input':
    case 'bad_message':
      // The daemon names the offending prompt (`prompts.3`); those come from the names field.
      return { message: `The daemon refused the request: ${problem.message}`, field: problem.field?.startsWith('prompts') ? 'names' : undefined };
    default:
      return { message: `The daemon reported an error: ${problem.message}` };
  }
}
