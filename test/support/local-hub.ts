/**
 * A Hugging Face hub on loopback, speaking the routes `styleset pull` and the hub's clients use,
 * as the hub documents and answers them:
 *
 * - `GET /api/models/{owner}/{name}/revision/{revision}`: model info with `sha` (the commit the
 *   revision names) and `siblings`; `expand=` limits the fields, as on the hub.
 * - `GET /api/models/{owner}/{name}/tree/{revision}[/{path}]?recursive=&expand=&cursor=`: the file
 *   tree, `lfs: { oid (sha256), size, pointerSize }` for LFS files, `oid` (git blob id) for the
 *   others, paginated with an absolute `Link: <...&cursor=...>; rel="next"` header.
 * - `HEAD|GET /{owner}/{name}/resolve/{revision}/{path}`: files in git are served here (200,
 *   `ETag` = git blob id, `X-Repo-Commit`, ranges); LFS files answer `302 Found` to a CDN-like
 *   signed URL on the same server, with `X-Linked-Etag` (sha256), `X-Linked-Size`, `X-Repo-Commit`.
 * - `GET /cdn/lfs/{sha256}?X-Signature=...` on a second port (another origin, like the hub's CDN):
 *   the bytes, with `Range` (206, `Content-Range`; 416 past the end) and `ETag`, no authentication
 *   (the URL is signed).
 *
 * Errors as the hub sends them: `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`,
 * `EntryNotFound`, `GatedRepo`) and `X-Error-Message` headers with a JSON `{ error }` body; a missing
 * or private repository is 401 without a token and 404 with one; a gated repository's files are
 * 401 without a token and 403 with a token not granted access; an unknown token is 401 "Invalid
 * credentials in Authorization header". Faults on cue: a connection dropped after N bytes of a
 * CDN response, a corrupted byte. Every request is logged for assertions.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface HubFile {
  path: string;
  content: Uint8Array;
  /** Stored in Git LFS (weights), else in git (configs, tokenizers). */
  lfs: boolean;
}

export interface HubRepoOptions {
  /** `owner/name`. */
  name: string;
  files: HubFile[];
  private?: boolean;
  /** Files need a token granted access (`grant`). */
  gated?: boolean;
  /** Branches and tags besides `main`, each naming a commit of an earlier `addRepo` of this name. */
  refs?: Record<string, string>;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: string;
  range?: string;
  authorization?: string;
  status?: number;
  host?: string;
}

interface StoredFile extends HubFile {
  oid: string;
  sha256: string;
  pointer: string;
}

interface Commit {
  sha: string;
  files: Map<string, StoredFile>;
}

interface Repo {
  name: string;
  private: boolean;
  gated: boolean;
  commits: Map<string, Commit>;
  refs: Map<string, string>;
  granted: Set<string>;
}

export interface LocalHub {
  /** The endpoint: what HF_ENDPOINT is set to. */
  url: string;
  /** The CDN's origin, where LFS downloads are redirected. */
  cdnUrl: string;
  requests: LoggedRequest[];
  /** Adds (or adds a new commit to) a repository; `main` points at it. Returns the commit. */
  addRepo(options: HubRepoOptions): string;
  /** Tokens the hub knows; `grant` gives one access to a gated or private repository. */
  addToken(token: string): void;
  grant(repo: string, token: string): void;
  /** The next GETs of this LFS file (by repository path) stop after these many bytes each, then the connection is destroyed. */
  dropAfter(path: string, bytes: number[]): void;
  /** The CDN serves this file (by repository path) with one byte changed, size and headers unchanged. */
  corrupt(path: string, on?: boolean): void;
  close(): Promise<void>;
}

const gitOid = (content: Uint8Array) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
const sha256 = (content: Uint8Array) => createHash('sha256').update(content).digest('hex');

/** Every file of a model folder, for a repository: ONNX graphs and weights in LFS, the rest in git. */
export async function filesFromFolder(dir: string, prefix = ''): Promise<HubFile[]> {
  const out: HubFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const path = `${prefix}${relative(dir, full).split(sep).join('/')}`;
        out.push({ path, content: await readFile(full), lfs: isLfs(path) });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** The patterns of the hub's default .gitattributes that matter here. */
export function isLfs(path: string): boolean {
  return /\.(onnx|onnx_data|data|pb|safetensors|bin|msgpack|ckpt|pt|pth)$/.test(path);
}

export async function startLocalHub(options: { port?: number; pageSize?: number } = {}): Promise<LocalHub> {
  const pageSize = options.pageSize ?? 1000;
  const repos = new Map<string, Repo>();
  const tokens = new Set<string>();
  const drops = new Map<string, number[]>();
  const corrupted = new Set<string>();
  const signatures = new Map<string, StoredFile>();
  const requests: LoggedRequest[] = [];
  let base = '';
  let cdnBase = '';

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://hub.invalid');
    const logged: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      range: req.headers.range,
      authorization: req.headers.authorization,
      host: req.headers.host,
    };
    requests.push(logged);
    res.on('finish', () => (logged.status = res.statusCode));
    try {
      route(req, res, url);
    } catch (error) {
      send(res, 500, { error: String(error) });
    }
  };
  const server = createServer(handle);
  // The CDN is another origin, as on the hub: a client must not send it the hub's token.
  const cdn = createServer(handle);

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  function fail(res: ServerResponse, status: number, code: string | undefined, message: string): void {
    send(res, status, { error: message }, { ...(code ? { 'X-Error-Code': code } : {}), 'X-Error-Message': message });
  }

  /** The token of a request: undefined (anonymous), a known one, or null (unknown: refused). */
  function token(req: IncomingMessage): string | undefined | null {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const value = /^Bearer (.+)$/.exec(header)?.[1];
    return value !== undefined && tokens.has(value) ? value : null;
  }

  /** The repository if the request may see it; else the hub's answer has been sent. */
  function repoFor(req: IncomingMessage, res: ServerResponse, name: string, files: boolean): Repo | undefined {
    const who = token(req);
    if (who === null) {
      fail(res, 401, undefined, 'Invalid credentials in Authorization header');
      return undefined;
    }
    const repo = repos.get(name);
    const visible = repo !== undefined && (!repo.private || (who !== undefined && repo.granted.has(who)));
    if (!visible) {
      fail(res, who === undefined ? 401 : 404, 'RepoNotFound', 'Repository not found');
      return undefined;
    }
    if (files && repo.gated && !(who !== undefined && repo.granted.has(who))) {
      fail(
        res,
        who === undefined ? 401 : 403,
        'GatedRepo',
        `Access to model ${name} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
      return undefined;
    }
    return repo;
  }

  function commitFor(res: ServerResponse, repo: Repo, revision: string): Commit | undefined {
    const sha = repo.refs.get(revision) ?? (repo.commits.has(revision) ? revision : undefined);
    const commit = sha === undefined ? undefined : repo.commits.get(sha);
    if (commit === undefined) fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    return commit;
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const parts = url.pathname.split('/').slice(1);
    // /api/models/{owner}/{name}/revision/{revision}
    if (parts[0] === 'api' && parts[1] === 'models' && parts[4] === 'revision' && parts.length === 6) {
      const repo = repoFor(req, res, `${parts[2]}/${parts[3]}`, false);
      if (!repo) return;
      const commit = commitFor(res, repo, decodeURIComponent(parts[5]));
      if (!commit) return;
      const full: Record<string, unknown> = {
        _id: createHash('sha1').update(repo.name).digest('hex').slice(0, 24),
        id: repo.name,
        sha: commit.sha,
        private: repo.private,
        gated: repo.gated ? 'manual' : false,
        disabled: false,
        downloads: 0,
        likes: 0,
        lastModified: '2024-01-01T00:00:00.000Z',
        pipeline_tag: 'text-to-image',
        library_name: 'diffusers',
        tags: ['onnx', 'text-to-image'],
        siblings: [...commit.files.keys()].map((rfilename) => ({ rfilename })),
      };
      const expand = url.searchParams.getAll('expand');
      const body = expand.length === 0 ? full : Object.fromEntries(Object.entries(full).filter(([key]) => key === '_id' || key === 'id' || expand.includes(key)));
      send(res, 200, body);
      return;
    }
    // /api/models/{owner}/{name}/tree/{revision}[/{path...}]
    if (parts[0] === 'api' && parts[1] === 'models' && parts[4] === 'tree' && parts.length >= 6) {
      const repo = repoFor(req, res, `${parts[2]}/${parts[3]}`, false);
      if (!repo) return;
      const commit = commitFor(res, repo, decodeURIComponent(parts[5]));
      if (!commit) return;
      const folder = parts.slice(6).map(decodeURIComponent).join('/');
      const recursive = url.searchParams.get('recursive') === 'true' || url.searchParams.get('recursive') === '1';
      const entries = treeEntries(commit, folder, recursive);
      if (entries === undefined) {
        fail(res, 404, 'EntryNotFound', `${folder} does not exist on "${parts[5]}"`);
        return;
      }
      const offset = Number(Buffer.from(url.searchParams.get('cursor') ?? '', 'base64url').toString() || '0');
      const page = entries.slice(offset, offset + pageSize);
      const headers: Record<string, string> = {};
      if (offset + pageSize < entries.length) {
        const next = new URL(`${base}${url.pathname}`);
        next.searchParams.set('recursive', String(recursive));
        next.searchParams.set('expand', url.searchParams.get('expand') ?? 'false');
        next.searchParams.set('cursor', Buffer.from(String(offset + pageSize)).toString('base64url'));
        headers.Link = `<${next.href}>; rel="next"`;
      }
      send(res, 200, page, headers);
      return;
    }
    // /{owner}/{name}/resolve/{revision}/{path...}
    if (parts[2] === 'resolve' && parts.length >= 5) {
      const repo = repoFor(req, res, `${parts[0]}/${parts[1]}`, true);
      if (!repo) return;
      const commit = commitFor(res, repo, decodeURIComponent(parts[3]));
      if (!commit) return;
      const path = parts.slice(4).map(decodeURIComponent).join('/');
      const file = commit.files.get(path);
      if (file === undefined) {
        fail(res, 404, 'EntryNotFound', `Entry not found: ${path}`);
        return;
      }
      const common = { 'X-Repo-Commit': commit.sha, 'Access-Control-Expose-Headers': 'X-Repo-Commit,X-Linked-Etag,X-Linked-Size,ETag' };
      if (file.lfs) {
        const signature = randomBytes(12).toString('hex');
        signatures.set(signature, file);
        res.writeHead(302, {
          ...common,
          Location: `${cdnBase}/cdn/lfs/${file.sha256}?X-Signature=${signature}`,
          ETag: `"${file.oid}"`,
          'X-Linked-Etag': `"${file.sha256}"`,
          'X-Linked-Size': String(file.content.length),
          'Content-Length': '0',
        });
        res.end();
        return;
      }
      serveBytes(req, res, file, file.content, { ...common, ETag: `"${file.oid}"`, 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    // /cdn/lfs/{sha256}?X-Signature=...
    if (parts[0] === 'cdn' && parts[1] === 'lfs' && parts.length === 3) {
      const file = signatures.get(url.searchParams.get('X-Signature') ?? '');
      if (file === undefined || file.sha256 !== parts[2]) {
        res.writeHead(403, { 'Content-Type': 'application/xml' });
        res.end('<Error><Code>AccessDenied</Code></Error>');
        return;
      }
      let content = file.content;
      if (corrupted.has(file.path) && content.length > 0) {
        content = Uint8Array.from(content);
        content[content.length >> 1] ^= 0xff;
      }
      serveBytes(req, res, file, content, { ETag: `"${file.sha256}"`, 'Content-Type': 'application/octet-stream' });
      return;
    }
    fail(res, 404, undefined, 'Not found');
  }

  function serveBytes(req: IncomingMessage, res: ServerResponse, file: StoredFile, content: Uint8Array, headers: Record<string, string>): void {
    const size = content.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (req.headers.range !== undefined && range !== null) {
      start = Number(range[1]);
      end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      if (start >= size) {
        res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      headers = { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}` };
    }
    const body = content.subarray(start, end + 1);
    res.writeHead(status, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': String(body.length) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const plan = file.lfs ? drops.get(file.path) : undefined;
    const cut = plan?.shift();
    if (cut !== undefined && cut < body.length) {
      // Send part of the body, then drop the connection, as a network failure does.
      res.write(body.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }

  function treeEntries(commit: Commit, folder: string, recursive: boolean): object[] | undefined {
    const prefix = folder === '' ? '' : `${folder}/`;
    const inside = [...commit.files.values()].filter((f) => f.path.startsWith(prefix));
    if (folder !== '' && inside.length === 0) return undefined;
    const dirs = new Set<string>();
    const entries: object[] = [];
    for (const file of inside) {
      const rest = file.path.slice(prefix.length).split('/');
      for (let depth = 1; depth < rest.length; depth++) {
        if (!recursive && depth > 1) break;
        dirs.add(prefix + rest.slice(0, depth).join('/'));
      }
      if (!recursive && rest.length > 1) continue;
      entries.push(
        file.lfs
          ? { type: 'file', oid: file.oid, size: file.pointer.length, path: file.path, lfs: { oid: file.sha256, size: file.content.length, pointerSize: file.pointer.length } }
          : { type: 'file', oid: file.oid, size: file.content.length, path: file.path },
      );
    }
    const folders = [...dirs].sort().map((path) => ({ type: 'directory', oid: createHash('sha1').update(path).digest('hex'), size: 0, path }));
    return [...folders, ...entries];
  }

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cdnBase = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  return {
    url: base,
    cdnUrl: cdnBase,
    requests,
    addRepo(repoOptions) {
      const files = new Map<string, StoredFile>();
      for (const file of repoOptions.files) {
        const hash = sha256(file.content);
        const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${hash}\nsize ${file.content.length}\n`;
        files.set(file.path, { ...file, sha256: hash, pointer, oid: file.lfs ? gitOid(Buffer.from(pointer)) : gitOid(file.content) });
      }
      const sha = createHash('sha1')
        .update(repoOptions.name)
        .update(JSON.stringify([...files.values()].map((f) => [f.path, f.oid])))
        .digest('hex');
      const repo = repos.get(repoOptions.name) ?? { name: repoOptions.name, private: false, gated: false, commits: new Map(), refs: new Map(), granted: new Set<string>() };
      repo.private = repoOptions.private ?? false;
      repo.gated = repoOptions.gated ?? false;
      repo.commits.set(sha, { sha, files });
      repo.refs.set('main', sha);
      for (const [ref, commit] of Object.entries(repoOptions.refs ?? {})) repo.refs.set(ref, commit);
      repos.set(repoOptions.name, repo);
      return sha;
    },
    addToken: (value) => void tokens.add(value),
    grant: (repo, value) => {
      tokens.add(value);
      repos.get(repo)?.granted.add(value);
    },
    dropAfter: (path, bytes) => void drops.set(path, [...bytes]),
    corrupt: (path, on = true) => void (on ? corrupted.add(path) : corrupted.delete(path)),
    close: async () => {
      for (const s of [server, cdn]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}
