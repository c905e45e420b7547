import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { RepoFile } from './hub-api';

/**
 * The digest the hub lists for a file, computed over the bytes as they arrive: sha256 for Git LFS
 * files (their `lfs.oid`), the git blob id for the others (sha1 of "blob <size>\0" and the
 * content, their `oid`). Every downloaded file is checked, not only the large ones.
 */
export interface ContentHash {
  kind: 'sha256' | 'git-sha1';
  expected: string;
  update(bytes: Uint8Array): void;
  /** Starts over, for a download that starts over. */
  reset(): void;
  digest(): string;
}

export function contentHash(file: RepoFile): ContentHash {
  const kind = file.sha256 !== undefined ? 'sha256' : 'git-sha1';
  let hash: Hash = start(kind, file.size);
  return {
    kind,
    expected: (file.sha256 ?? file.gitOid ?? '').replace(/^sha256:/, ''),
    update: (bytes) => hash.update(bytes),
    reset: () => {
      hash = start(kind, file.size);
    },
    digest: () => hash.digest('hex'),
  };
}

function start(kind: ContentHash['kind'], size: number): Hash {
  if (kind === 'sha256') return createHash('sha256');
  return createHash('sha1').update(`blob ${size}\0`);
}

/** Feeds the bytes already on disk (a download being resumed) into the hash. */
export async function hashExisting(hash: ContentHash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}
