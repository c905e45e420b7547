import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeFolder, nodeFileSystem, storageError } from '../storage';
import { contentHash, hashExisting, type ContentHash } from './content-hash';
import type { RepoFile } from './hub-api';
import { authorized, type HubConnection } from './hub-connection';
import { HubError, hubFailureError, networkErrorCode, unreachableError } from './hub-error';

/** A download that has sent nothing for this long is dropped and resumed. */
const STALL_MS = 60_000;
const MAX_REDIRECTS = 5;

export interface DownloadTarget {
  hub: HubConnection;
  repo: string;
  commit: string;
  file: RepoFile;
  /** Where the verified file goes; it is built in `<dest>.incomplete` beside it until then. */
  dest: string;
  /** For storage errors: the data folder the message names. */
  dataDir: string;
  /** Failed attempts in a row (no byte gained) before giving up; the partial file stays for a later pull. */
  retries: number;
  retryDelayMs: number;
  onBytes(count: number): void;
  onRetry(info: { at: number; attempt: number; reason: string }): void;
}

export interface Downloaded {
  /** Bytes that were already on disk from an earlier, interrupted pull. */
  resumedFrom: number;
  attempts: number;
  verified: ContentHash['kind'];
  digest: string;
}

export const INCOMPLETE_SUFFIX = '.incomplete';

/** The partial file of `dest` and how much of it there is. */
export async function partialSize(dest: string): Promise<number> {
  return stat(`${dest}${INCOMPLETE_SUFFIX}`).then(
    (s) => s.size,
    () => 0,
  );
}

/**
 * One file, the way the hub's own clients fetch it: a HEAD on its `resolve` URL at the pinned
 * commit gives the commit, the ETag (`X-Linked-Etag` for LFS files: their sha256) and, for large
 * files, a redirect to a CDN, from which the bytes are fetched with a `Range` that starts where the
 * partial file ends. The bytes are hashed as they arrive and checked against the listing before
 * the file takes its name; a mismatch deletes them.
 */
export async function downloadFile(target: DownloadTarget): Promise<Downloaded> {
  const { file, dest } = target;
  const partial = `${dest}${INCOMPLETE_SUFFIX}`;
  await makeFolder(nodeFileSystem, dirname(dest)).catch((error: unknown) => {
    throw storageError(error, target.dataDir, dest);
  });
  let have = await partialSize(dest);
  if (have > file.size) {
    await rm(partial, { force: true });
    have = 0;
  }
  const resumedFrom = have;
  const hash = contentHash(file);
  if (have > 0) await hashExisting(hash, partial);

  let failures = 0;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const before = have;
    let failure: { code: string; error: unknown } | undefined;
    try {
      const location = await resolveLocation(target);
      if (have < file.size) have = await fetchRange(target, location, partial, have, hash);
      else await touch(partial, target);
    } catch (error) {
      const code = networkErrorCode(error);
      if (code === undefined) throw error;
      have = await partialSize(dest);
      failure = { code, error };
    }
    if (have >= file.size) break;
    // A body that ended early without an error counts as a dropped connection.
    const code = failure?.code ?? 'ECONNRESET';
    failures = have > before ? 1 : failures + 1;
    if (failures > target.retries) {
      throw new HubError(
        'hub_unreachable',
        `the download of ${file.path} from ${target.hub.endpoint} failed (${code}) at byte ${have} of ${file.size}${attempts > 1 ? ` after ${attempts} attempts` : ''}: check the network connection, then run the same pull again: it resumes from byte ${have}`,
        { cause: failure?.error },
      );
    }
    target.onRetry({ at: have, attempt: attempts + 1, reason: code });
    await new Promise((resolve) => setTimeout(resolve, target.retryDelayMs * 2 ** Math.min(failures - 1, 4)));
  }

  const size = await partialSize(dest);
  const digest = hash.digest();
  if (size !== file.size || digest !== hash.expected) {
    await rm(partial, { force: true });
    const what = size !== file.size ? `${size} bytes arrived, the hub lists ${file.size}` : `their ${hash.kind === 'sha256' ? 'sha256' : 'git blob id'} is ${digest}, the hub lists ${hash.expected}`;
    throw new HubError(
      'hash_mismatch',
      `${file.path} from ${target.repo}@${target.commit.slice(0, 12)} is not what the hub lists (${what}); the bytes were deleted: pull again, and if it repeats, something between you and ${target.hub.endpoint} (a proxy, a mirror) is changing the file`,
    );
  }
  await rename(partial, dest);
  return { resumedFrom, attempts, verified: hash.kind, digest };
}

/** The resolve URL of a file at the pinned commit (path segments escaped, `/` kept). */
export function resolveUrl(hub: HubConnection, repo: string, commit: string, path: string): string {
  return `${hub.endpoint}/${repo}/resolve/${commit}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Where the bytes are: the resolve URL itself for files the hub serves (small, in git), or the
 * CDN address of its redirect for LFS files. Relative redirects (a renamed repository) are
 * followed, as the hub's Python client does; the metadata is checked against the listing.
 */
async function resolveLocation(target: DownloadTarget): Promise<string> {
  const { hub, repo, commit, file } = target;
  const doFetch = hub.fetch ?? fetch;
  let url = resolveUrl(hub, repo, commit, file.path);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await doFetch(url, {
      method: 'HEAD',
      redirect: 'manual',
      headers: authorized(hub, url, { 'Accept-Encoding': 'identity' }),
    });
    if (response.status >= 400) {
      throw hubFailureError(
        { status: response.status, errorCode: response.headers.get('X-Error-Code') ?? undefined, errorMessage: response.headers.get('X-Error-Message') ?? undefined, url },
        { endpoint: hub.endpoint, repo, revision: commit, path: file.path, hasToken: hub.token !== undefined },
      );
    }
    checkMetadata(target, response.headers);
    const location = response.headers.get('Location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      // An absolute address is where the bytes are (the CDN); a relative one is the hub's own.
      if (/^[a-z][a-z0-9+.-]*:/i.test(location)) return location;
      url = new URL(location, url).href;
      continue;
    }
    return url;
  }
  throw new HubError('hub_error', `${file.path}: more than ${MAX_REDIRECTS} redirects from ${hub.endpoint}`);
}

function checkMetadata(target: DownloadTarget, headers: Headers): void {
  const { file, commit, repo } = target;
  const repoCommit = headers.get('X-Repo-Commit');
  const etag = (headers.get('X-Linked-Etag') ?? headers.get('ETag'))?.replace(/^W\//, '').replace(/"/g, '');
  const size = headers.get('X-Linked-Size');
  const expected = (file.sha256 ?? file.gitOid)?.replace(/^sha256:/, '');
  const problems: string[] = [];
  if (repoCommit !== null && repoCommit !== commit) problems.push(`commit ${repoCommit}, not ${commit}`);
  if (etag !== undefined && /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(etag) && etag !== expected) problems.push(`ETag ${etag}, the listing ${expected}`);
  if (size !== null && Number(size) !== file.size) problems.push(`size ${size}, the listing ${file.size}`);
  if (problems.length > 0) {
    throw new HubError('hub_error', `${repo}: the hub's headers for ${file.path} disagree with its file listing (${problems.join('; ')}); pull again`);
  }
}

/** Appends bytes `from`.. of the file to the partial file; returns its new length. */
async function fetchRange(target: DownloadTarget, url: string, partial: string, from: number, hash: ContentHash): Promise<number> {
  const { hub, file } = target;
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), STALL_MS);
  const headers = authorized(hub, url, { 'Accept-Encoding': 'identity', ...(from > 0 ? { Range: `bytes=${from}-` } : {}) });
  let handle: FileHandle | undefined;
  let have = from;
  try {
    const response = await (hub.fetch ?? fetch)(url, { headers, signal: controller.signal });
    if (response.status === 416 && from > 0) {
      // The partial file already reaches the end: nothing more to fetch; the hash decides.
      await response.body?.cancel();
      return from;
    }
    if (!response.ok) {
      throw hubFailureError(
        { status: response.status, errorCode: response.headers.get('X-Error-Code') ?? undefined, errorMessage: response.headers.get('X-Error-Message') ?? undefined, url },
        { endpoint: hub.endpoint, repo: target.repo, revision: target.commit, path: file.path, hasToken: hub.token !== undefined },
      );
    }
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('Content-Range') ?? '')?.[1];
      if (Number(start) !== from) throw new HubError('hub_error', `${file.path}: asked for bytes from ${from}, the server sent ${response.headers.get('Content-Range') ?? 'no Content-Range'}`);
    } else if (from > 0) {
      // The server ignored the Range and sends the whole file: start over.
      hash.reset();
      have = 0;
    }
    handle = await open(partial, have === 0 ? 'w' : 'a').catch((error: unknown) => {
      throw storageError(error, target.dataDir, partial);
    });
    if (response.body === null) throw new HubError('hub_error', `${file.path}: the server sent no body`);
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), STALL_MS);
      const bytes = have + chunk.length > file.size ? chunk.subarray(0, file.size - have) : chunk;
      await handle.write(bytes).catch((error: unknown) => {
        throw storageError(error, target.dataDir, partial);
      });
      hash.update(bytes);
      have += bytes.length;
      target.onBytes(bytes.length);
      if (have >= file.size) break;
    }
    await handle.sync();
    return have;
  } finally {
    clearTimeout(timer);
    await handle?.close().catch(() => undefined);
  }
}

/** An empty file is complete without a request. */
async function touch(partial: string, target: DownloadTarget): Promise<void> {
  const handle = await open(partial, 'a').catch((error: unknown) => {
    throw storageError(error, target.dataDir, partial);
  });
  await handle.close();
}
