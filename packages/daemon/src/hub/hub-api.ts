import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { authorized, type HubConnection } from './hub-connection';
import { hubFailureError, networkErrorCode, unreachableError, type HubFailure } from './hub-error';

/** A file of a repository at one commit, as the hub's tree listing describes it. */
export interface RepoFile {
  /** From the repository root, with `/`. */
  path: string;
  size: number;
  /** Git LFS files: the sha256 of the content. */
  sha256?: string;
  /** Other files: the git blob id of the content. */
  gitOid?: string;
}

/**
 * The hub's JavaScript client for the metadata (the commit a revision resolves to, the file tree
 * with its paginated listing), through a fetch that adds the token for the hub's own host only
 * and keeps the hub's error headers, which the client's errors leave out.
 */
function clientFetch(hub: HubConnection, failures: HubFailure[]): typeof fetch {
  const base = hub.fetch ?? fetch;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = authorized(hub, url, Object.fromEntries(new Headers(init?.headers).entries()));
    const response = await base(input, { ...init, headers });
    if (!response.ok) {
      failures.push({
        status: response.status,
        errorCode: response.headers.get('X-Error-Code') ?? undefined,
        errorMessage: response.headers.get('X-Error-Message') ?? undefined,
        url,
      });
    }
    return response;
  };
}

async function call<T>(hub: HubConnection, repo: string, revision: string, run: (fetch: typeof globalThis.fetch) => Promise<T>): Promise<T> {
  const failures: HubFailure[] = [];
  try {
    return await run(clientFetch(hub, failures));
  } catch (error) {
    const failure = failures.at(-1);
    if (error instanceof HubApiError && failure !== undefined) {
      throw hubFailureError(failure, { endpoint: hub.endpoint, repo, revision, hasToken: hub.token !== undefined });
    }
    const code = networkErrorCode(error);
    if (code !== undefined) throw unreachableError(hub.endpoint, code, error);
    throw error;
  }
}

/** The commit `revision` (a branch, tag or commit) names now: everything is then fetched at that commit. */
export async function resolveCommit(hub: HubConnection, repo: string, revision: string): Promise<string> {
  const info = await call(hub, repo, revision, (fetch) =>
    modelInfo({ name: repo, revision, hubUrl: hub.endpoint, additionalFields: ['sha'], fetch }),
  );
  if (typeof info.sha !== 'string' || !/^[0-9a-f]{40}$/.test(info.sha)) {
    throw hubFailureError({ status: 200, url: `${hub.endpoint}/api/models/${repo}`, errorMessage: `no commit id (sha) for revision "${revision}" in the answer` }, { endpoint: hub.endpoint, repo, revision, hasToken: hub.token !== undefined });
  }
  return info.sha;
}

/** Every file of the repository at `commit` (the listing is paginated; the client follows its Link headers). */
export async function listRepoFiles(hub: HubConnection, repo: string, commit: string): Promise<RepoFile[]> {
  return call(hub, repo, commit, async (fetch) => {
    const files: RepoFile[] = [];
    for await (const entry of listFiles({ repo: { type: 'model', name: repo }, revision: commit, recursive: true, hubUrl: hub.endpoint, fetch })) {
      if (entry.type !== 'file') continue;
      files.push(
        entry.lfs
          ? { path: entry.path, size: entry.lfs.size, sha256: entry.lfs.oid }
          : { path: entry.path, size: entry.size, gitOid: entry.oid },
      );
    }
    return files;
  });
}
