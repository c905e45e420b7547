import { StylesetError } from '../errors';

/**
 * What went wrong talking to the hub, with a stable code. The codes a user can act on differently
 * stay apart: a wrong name, a missing token, a refused token, no network, bytes that are not
 * what the hub lists.
 */
export type HubErrorCode =
  | 'hub_repo_not_found'
  | 'hub_revision_not_found'
  | 'hub_file_not_found'
  | 'hub_unauthorized'
  | 'hub_forbidden'
  | 'hub_unreachable'
  | 'hub_error'
  | 'hash_mismatch'
  | 'not_an_onnx_export';

export class HubError extends StylesetError {
  constructor(code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'HubError';
  }
}

/** The hub's own words on a failed request: its status and the `X-Error-Code` / `X-Error-Message` headers. */
export interface HubFailure {
  status: number;
  errorCode?: string;
  errorMessage?: string;
  url: string;
}

export interface FailureContext {
  endpoint: string;
  repo: string;
  revision?: string;
  path?: string;
  hasToken: boolean;
}

/**
 * The hub answers a missing repository and a private one alike (401 without a token, 404 with
 * one, `X-Error-Code: RepoNotFound`), a gated one with `GatedRepo` (401 without a token, 403 when
 * the token's account has not been granted access), and a missing branch or file with 404
 * `RevisionNotFound` / `EntryNotFound`: each becomes what to do about it.
 */
export function hubFailureError(failure: HubFailure, context: FailureContext): HubError {
  const { endpoint, repo, revision, path, hasToken } = context;
  const page = `${endpoint}/${repo}`;
  const why = `${failure.status}${failure.errorCode ? `, ${failure.errorCode}` : ''}`;
  if (failure.errorCode === 'GatedRepo') {
    return hasToken
      ? new HubError('hub_forbidden', `${repo} is gated and the account of HF_TOKEN has not been granted access (${why}): request access at ${page}, then pull again`)
      : new HubError('hub_unauthorized', `${repo} is gated (${why}): accept its conditions at ${page} with your account, then set HF_TOKEN to an access token of that account`);
  }
  if (failure.errorCode === 'RevisionNotFound') {
    return new HubError('hub_revision_not_found', `${repo} has no revision "${revision ?? 'main'}" on ${endpoint} (${why}): give a branch, a tag or a commit that exists`);
  }
  if (failure.errorCode === 'EntryNotFound') {
    return new HubError('hub_file_not_found', `${repo}: ${path ?? 'a file'} is not in revision ${revision ?? 'main'} on ${endpoint} (${why})`);
  }
  if (failure.status === 401 && /invalid credentials/i.test(failure.errorMessage ?? '')) {
    return new HubError('hub_unauthorized', `${endpoint} refused HF_TOKEN (${why}: ${failure.errorMessage}): check the token, or unset HF_TOKEN for public repositories`);
  }
  if (failure.errorCode === 'RepoNotFound' || failure.status === 401 || failure.status === 404) {
    return new HubError(
      'hub_repo_not_found',
      hasToken
        ? `no repository ${repo} on ${endpoint} that the account of HF_TOKEN can see (${why}): check the name`
        : `no repository ${repo} on ${endpoint}, or it is private (${why}): check the name; for a private repository set HF_TOKEN`,
    );
  }
  if (failure.status === 403) {
    return new HubError('hub_forbidden', `${endpoint} refused access to ${repo}${path ? `/${path}` : ''} (${why}${failure.errorMessage ? `: ${failure.errorMessage}` : ''})`);
  }
  return new HubError('hub_error', `${endpoint} answered ${why} for ${failure.url}${failure.errorMessage ? `: ${failure.errorMessage}` : ''}; try again later`);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The system error code of a failed fetch (Node puts it on `cause`), if it is a network failure. */
export function networkErrorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NETWORK_CODES.has(code)) return code;
    if (e.name === 'AbortError' || e.name === 'TimeoutError') return 'ETIMEDOUT';
    e = e.cause;
  }
  if (error instanceof TypeError && /fetch failed|terminated|network/i.test(error.message)) return 'ECONNRESET';
  return undefined;
}

export function unreachableError(endpoint: string, code: string, cause: unknown): HubError {
  return new HubError(
    'hub_unreachable',
    `cannot reach ${endpoint} (${code}): check the network connection${endpoint === 'https://huggingface.co' ? '' : ' and HF_ENDPOINT'}; an interrupted download resumes when you pull again`,
    { cause },
  );
}
