import type { ErrorCode } from '@styleset/protocol';

/**
 * What the user is told when something fails, and what they can do about it from the message
 * itself. A notification shows its first line or so, so the instruction comes first and the
 * details (which the output channel keeps whole) after it.
 */

export type FailureAction =
  | { kind: 'openSettings'; setting: string }
  | { kind: 'retry' }
  | { kind: 'startDaemon' }
  | { kind: 'enterToken' };

export type ActionKind = FailureAction['kind'];

/** The buttons' words, as VS Code's own notifications write theirs. */
export const ACTION_TITLES: Record<ActionKind, string> = {
  openSettings: 'Open Settings',
  retry: 'Retry',
  startDaemon: 'Start Daemon',
  enterToken: 'Enter Token',
};

export interface Failure {
  /** "Styleset: <instruction>. <what happened>" */
  message: string;
  /** The first sentence: what to do; empty where the details are all there is to say. */
  instruction: string;
  /** What happened, whole: for the output channel. */
  detail: string;
  actions: FailureAction[];
}

/** Codes this extension and the daemon's client give to failures that are not protocol errors. */
export type ClientFailureCode =
  /** Nothing accepted the connection (the cause's `code` says how it failed). */
  | 'daemon_unreachable'
  /** Something answered HTTP but would not open a WebSocket: another server, or the Host check. */
  | 'daemon_refused'
  /** The connection closed while a request was open. */
  | 'connection_closed'
  | 'unexpected_reply'
  /** The user dismissed the token prompt. */
  | 'token_missing'
  /** A generated image could not be written to its file. */
  | 'write_failed'
  /** A setting the extension checks before connecting; `field` names it. */
  | 'invalid_setting'
  /** `styleset.styleImage` names no PNG or JPEG in the workspace. */
  | 'style_image_unusable';

export interface FailureContext {
  /** The daemon address in use (the setting's value). */
  url: string;
}

/** Longer details are cut in the notification; the output channel has them whole. */
const MAX_DETAIL = 240;

const DAEMON_URL = 'styleset.daemonUrl';
const MODEL = 'styleset.model';
const STYLE_IMAGE = 'styleset.styleImage';
const SAVED_STYLE = 'styleset.savedStyle';

/** Explains an error from connecting, from the daemon (`error`, `job_error`), or from writing a file. */
export function explainFailure(error: unknown, context: FailureContext): Failure {
  const { code, detail, field, cause } = partsOf(error);
  const { url } = context;
  const local = isLoopback(url);
  const retry: FailureAction = { kind: 'retry' };
  const startDaemon: FailureAction[] = local ? [{ kind: 'startDaemon' }] : [];
  const settings = (setting: string): FailureAction => ({ kind: 'openSettings', setting });
  const make = (instruction: string, actions: FailureAction[], shown = detail) => failure(instruction, shown, detail, actions);

  switch (code as ErrorCode | ClientFailureCode | undefined) {
    case 'daemon_unreachable': {
      const how = causeCode(cause);
      if (how === 'ECONNREFUSED') {
        return local
          ? make('Start the daemon, then retry', [...startDaemon, retry, settings(DAEMON_URL)], `Nothing answers at ${url}; 'styleset service install' starts the daemon at every login.`)
          : make('Start the daemon on its machine, then retry', [retry, settings(DAEMON_URL)], `Nothing answers at ${url}.`);
      }
      if (how === 'ENOTFOUND' || how === 'EAI_AGAIN') {
        return make(`Correct ${DAEMON_URL}`, [settings(DAEMON_URL)], `The host in ${url} is unknown (${how}).`);
      }
      return make(`Check ${DAEMON_URL}, then retry`, [retry, settings(DAEMON_URL)], `${url} did not answer: ${detail}`);
    }
    case 'daemon_refused':
      // 403: the daemon's Host check. (Daemons before 0.2 also answered 503 when full.)
      if (/\bHTTP 403\b/.test(detail)) return make("Add this host name to the daemon's allowedHosts", [settings(DAEMON_URL)]);
      if (/\bHTTP 503\b/.test(detail)) return make('Retry when the daemon has fewer connections', [retry]);
      return make(`Correct ${DAEMON_URL}: it is not a Styleset daemon`, [settings(DAEMON_URL)]);
    case 'unauthorized':
      return make("Enter the token that 'styleset pair' prints", [{ kind: 'enterToken' }], 'The daemon did not accept the stored pairing token.');
    case 'token_missing':
      return make("Enter the token that 'styleset pair' prints", [{ kind: 'enterToken' }], 'The daemon needs its pairing token once.');
    case 'connection_closed':
      return make('Retry: the connection to the daemon was lost', [retry, ...startDaemon]);
    case 'interrupted':
      return make('Retry once the daemon runs again', [retry, ...startDaemon], `It stopped during the job: ${detail}`);
    case 'queue_full':
      return make("Retry when the daemon's queue has room", [retry]);
    case 'too_many_connections':
      return make('Retry when the daemon has fewer connections', [retry]);
    case 'disk_full':
      return make("Free disk space on the daemon's machine, then retry", [retry]);
    case 'storage_unwritable':
      return make("Make the daemon's data folder writable, then retry", [retry]);
    case 'version_mismatch':
      return make('Update the extension or the daemon, whichever is older', []);
    case 'model_not_found':
      return make(`Choose an installed model in ${MODEL}`, [settings(MODEL)]);
    case 'model_invalid':
      return make(`Repair the model folder or choose another in ${MODEL}`, [settings(MODEL)]);
    case 'invalid_setting':
      return make(`Correct ${field ?? 'the Styleset settings'}`, [settings(field ?? 'styleset')]);
    case 'invalid_option': {
      const setting = settingOf(field);
      return make(`Correct ${setting ?? 'the Styleset settings'}`, [settings(setting ?? 'styleset')]);
    }
    case 'too_large':
    case 'invalid_input':
      if (field?.startsWith('prompts')) return make('Shorten the alt text or styleset.styleHint', [settings('styleset.styleHint')]);
      // The only picture a request carries is the style image.
      if (field?.startsWith('attachment')) return make(`Choose another image for ${STYLE_IMAGE}`, [settings(STYLE_IMAGE)]);
      return make('', []);
    case 'bad_message':
    case 'unknown_type':
    case 'unexpected_reply':
      return make('Update the extension and the daemon to the same version', []);
    case 'job_not_found':
      return make('Retry: the daemon lost track of the job', [retry]);
    case 'write_failed':
      // A folder linked to somewhere outside the workspace: retrying cannot help.
      if (partsOf(cause).code === 'outside_workspace') return make('Keep generated images inside the workspace folder', []);
      return make('Check that the folder is writable, then retry', [retry]);
    case 'style_not_found':
      return make(`Choose a style the daemon keeps in ${SAVED_STYLE}`, [settings(SAVED_STYLE)]);
    case 'model_mismatch':
      // The saved style's model id names other weights on the daemon than it was made on.
      return make(`Choose another style in ${SAVED_STYLE}`, [settings(SAVED_STYLE)]);
    case 'style_image_unusable':
      return make('Choose a PNG or JPEG image for styleset.styleImage', [settings(STYLE_IMAGE)]);
    case 'internal':
      return make('Retry: the daemon hit an internal error', [retry]);
    default:
      // Codes added to the protocol later, and errors with none: say what happened; it may pass.
      return make('', [retry]);
  }
}

/** No instruction: nothing better to say than what happened. */
function failure(instruction: string, shown: string, detail: string, actions: FailureAction[]): Failure {
  const text = sentence(shown.length > MAX_DETAIL ? `${shown.slice(0, MAX_DETAIL - 1)}…` : shown);
  const message = instruction === '' ? `Styleset: ${text}` : `Styleset: ${instruction[0].toLowerCase()}${instruction.slice(1)}. ${text}`;
  return { message: message.trimEnd(), instruction, detail: sentence(detail), actions };
}

/**
 * A daemon message is a clause ("no model \"x\""); a sentence starts upper case and ends with a
 * stop. A first word that is a name (styleset.steps, ws://…, a path) keeps its case.
 */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  const name = /^[^\s]*[./:\\]/.test(trimmed);
  const capital = name ? trimmed : trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** The setting behind a job option the daemon refused. */
function settingOf(field: string | undefined): string | undefined {
  if (field === 'options.model') return MODEL;
  if (field === 'options.steps') return 'styleset.steps';
  if (field === 'options.width') return 'styleset.width';
  if (field === 'options.height') return 'styleset.height';
  return undefined;
}

/** Only a daemon on this machine can be started from a terminal here. */
export function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

function partsOf(error: unknown): { code?: string; detail: string; field?: string; cause?: unknown } {
  if (typeof error !== 'object' || error === null) return { detail: String(error) };
  const { code, message, field, cause } = error as { code?: unknown; message?: unknown; field?: unknown; cause?: unknown };
  return {
    code: typeof code === 'string' ? code : undefined,
    detail: typeof message === 'string' ? message : String(error),
    field: typeof field === 'string' ? field : undefined,
    cause,
  };
}

/** `ECONNREFUSED` and the like; Node reports a dual-stack `localhost` attempt as an AggregateError. */
function causeCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const { code, errors } = cause as { code?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  return Array.isArray(errors) ? causeCode(errors[0]) : undefined;
}
