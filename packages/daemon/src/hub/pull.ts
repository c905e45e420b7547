import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors';
import type { ModelFamily } from '../model/layout';
import { checkModelId, findInstalledModel, installedModelsDir, installModel, openStaging, type InstalledRecord, type ModelSource } from '../model-store';
import { formatBytes, makeFolder, nodeFileSystem, StorageError, storageError } from '../storage';
import { catalogueEntry, CATALOGUE } from './catalogue';
import { checkDownload } from './check-download';
import { downloadFile, partialSize } from './download-file';
import { selectFiles, type PlannedFile } from './file-selection';
import { statfsFreeSpace, type FreeSpace } from './free-space';
import { listRepoFiles, resolveCommit } from './hub-api';
import { hubFromEnv, type HubConnection } from './hub-connection';
import { HubError } from './hub-error';

/** Room left besides the download itself: the record, the file system's own bookkeeping. */
const HEADROOM = 16 * 1024 * 1024;

export interface PullRequest {
  /** `owner/name`, `owner/name@revision` (a branch, tag or commit), or a catalogue name. */
  spec: string;
  /** The folder of the repository the export is in, when not its root. */
  subfolder?: string;
  /** The id to install it under (default: the catalogue name, else the repository's name). */
  as?: string;
  /** Replace a model installed under the same id from another source or commit. */
  replace?: boolean;
  dataDir: string;
  /** Default: from HF_ENDPOINT and HF_TOKEN. */
  hub?: HubConnection;
  /** The free-space seam (default: statfs of the data folder's disk). */
  freeSpace?: FreeSpace;
  /** Failed attempts in a row, per file, before a pull gives up (the partial download stays). */
  retries?: number;
  retryDelayMs?: number;
  onEvent?(event: PullEvent): void;
}

export type PullEvent =
  | { type: 'resolved'; repo: string; revision: string; commit: string; subfolder?: string; id: string; endpoint: string; note?: string }
  | { type: 'plan'; files: number; bytes: number; present: number; skipped: number; free: number; staging: string }
  | { type: 'file'; path: string; size: number; from: number; index: number; files: number }
  | { type: 'progress'; path: string; bytes: number; totalBytes: number }
  | { type: 'retry'; path: string; at: number; attempt: number; reason: string }
  | { type: 'file_done'; path: string; size: number; verified: 'sha256' | 'git-sha1' | 'present'; digest?: string; resumedFrom: number; attempts: number }
  | { type: 'installed'; id: string; dir: string; bytes: number; family: ModelFamily; commit: string }
  | { type: 'up_to_date'; id: string; dir: string; commit: string };

export interface PullResult {
  id: string;
  dir: string;
  record: InstalledRecord;
  /** Nothing was downloaded: this commit was installed under this id already. */
  upToDate: boolean;
}

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

interface Target {
  repo: string;
  revision: string;
  subfolder?: string;
  id: string;
  note?: string;
}

/** `owner/name[@revision]`, or a catalogue name (`sdxl-turbo`, `sdxl-turbo@<commit>`). */
export function parsePullSpec(spec: string, subfolder?: string, as?: string): Target {
  const at = spec.indexOf('@');
  const name = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? undefined : spec.slice(at + 1);
  if (revision === '') throw new InputError(`"${spec}": nothing after "@" (expected a branch, tag or commit)`);
  const folder = subfolder?.replace(/^\/+|\/+$/g, '') || undefined;
  if (!name.includes('/')) {
    const entry = catalogueEntry(name);
    if (entry === undefined) {
      throw new InputError(`"${name}" is neither a repository (owner/name) nor a catalogue name (${CATALOGUE.map((e) => e.id).join(', ')}; styleset pull --list)`);
    }
    return { repo: entry.repo, revision: revision ?? entry.revision, subfolder: folder ?? entry.subfolder, id: checkModelId(as ?? entry.id), note: entry.note };
  }
  if (!REPO.test(name)) throw new InputError(`"${name}" is not a repository name (expected owner/name, letters, digits, ".", "_" and "-")`);
  return { repo: name, revision: revision ?? 'main', subfolder: folder, id: checkModelId(as ?? defaultId(name)) };
}

function defaultId(repo: string): string {
  return repo.split('/')[1].replace(/^[^A-Za-z0-9]+/, '').slice(0, 128);
}

/**
 * `styleset pull`: downloads the files of an ONNX export the pipeline needs at the commit the
 * revision names now, into a staging folder in the data folder's models (kept between runs, so
 * an interrupted pull resumes), checks each against the hub's listing, checks the whole as the
 * daemon would load it, and only then moves it into place under its id in one rename.
 */
export async function pullModel(request: PullRequest): Promise<PullResult> {
  const hub = request.hub ?? hubFromEnv();
  const emit = request.onEvent ?? (() => undefined);
  const target = parsePullSpec(request.spec, request.subfolder, request.as);
  const { repo, revision, subfolder, id } = target;

  const commit = await resolveCommit(hub, repo, revision);
  emit({ type: 'resolved', repo, revision, commit, subfolder, id, endpoint: hub.endpoint, note: target.note });
  const source: ModelSource = { endpoint: hub.endpoint, repo, revision, commit, ...(subfolder ? { subfolder } : {}) };
  const label = `${repo}@${commit.slice(0, 12)}${subfolder ? ` (${subfolder}/)` : ''}`;

  const installed = await findInstalledModel(request.dataDir, id);
  if (installed) {
    const was = installed.record.source;
    if (was.endpoint === hub.endpoint && was.repo === repo && was.commit === commit && was.subfolder === subfolder) {
      emit({ type: 'up_to_date', id, dir: installed.dir, commit });
      return { id, dir: installed.dir, record: installed.record, upToDate: true };
    }
    if (!request.replace) {
      throw new InputError(
        `a model "${id}" is installed already, from ${was.repo}@${was.commit.slice(0, 12)}${was.subfolder ? ` (${was.subfolder}/)` : ''}: pass --force to replace it with ${label}, or --as to install this one under another id`,
      );
    }
  }

  const selection = selectFiles(await listRepoFiles(hub, repo, commit), subfolder);
  if (!selection.ok) {
    throw new HubError('not_an_onnx_export', `${label} is not an ONNX export of a Stable Diffusion pipeline: ${selection.missing.join(', ')} missing; ${selection.hint}`);
  }

  const modelsDir = installedModelsDir(request.dataDir);
  const staging = await ensure(request.dataDir, () => openStaging(request.dataDir, source));
  const files = [...selection.files].sort((a, b) => a.size - b.size || a.local.localeCompare(b.local));
  const onDisk = await Promise.all(files.map((f) => bytesOnDisk(join(staging, f.local), f)));
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const present = onDisk.reduce((sum, n) => sum + n, 0);
  const free = await (request.freeSpace ?? statfsFreeSpace)(modelsDir);
  emit({ type: 'plan', files: files.length, bytes: totalBytes, present, skipped: selection.skipped, free, staging });
  const needed = totalBytes - present;
  const progress = { done: present, totalBytes };
  try {
    if (needed + HEADROOM > free) {
      throw new StorageError(
        'disk_full',
        `not enough space for ${label} in ${modelsDir}: the download needs ${formatBytes(needed)} more (of ${formatBytes(totalBytes)}) and the disk has ${formatBytes(free)} free: free space on that disk, or move the data folder with --data-dir or STYLESET_DATA_DIR; nothing was downloaded`,
      );
    }
    await downloadFiles({ request, hub, repo, commit, staging, files, onDisk, progress, emit });
  } catch (error) {
    // A pull that stopped before its first byte leaves nothing to resume.
    if (progress.done === 0) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }

  const layout = await checkDownload(staging, label);
  const record: InstalledRecord = {
    formatVersion: 1,
    source,
    family: layout.family,
    pipelineClass: layout.pipelineClass,
    bytes: totalBytes,
    files: files.map((f: PlannedFile) => ({ path: f.local, size: f.size, ...(f.sha256 ? { sha256: f.sha256.replace(/^sha256:/, '') } : { gitOid: f.gitOid }) })),
    installedAt: new Date().toISOString(),
  };
  const model = await ensure(request.dataDir, () => installModel({ dataDir: request.dataDir, stagingDir: staging, id, record, replace: request.replace }));
  emit({ type: 'installed', id, dir: model.dir, bytes: totalBytes, family: layout.family, commit });
  return { id, dir: model.dir, record, upToDate: false };
}

/** Each file not yet complete in the staging folder, smallest first. */
async function downloadFiles(run: {
  request: PullRequest;
  hub: HubConnection;
  repo: string;
  commit: string;
  staging: string;
  files: PlannedFile[];
  onDisk: number[];
  progress: { done: number; totalBytes: number };
  emit(event: PullEvent): void;
}): Promise<void> {
  const { request, files, onDisk, progress, emit } = run;
  for (const [index, file] of files.entries()) {
    const dest = join(run.staging, file.local);
    if (onDisk[index] === file.size && existsSync(dest)) {
      emit({ type: 'file_done', path: file.local, size: file.size, verified: 'present', resumedFrom: file.size, attempts: 0 });
      continue;
    }
    emit({ type: 'file', path: file.local, size: file.size, from: onDisk[index], index, files: files.length });
    const result = await downloadFile({
      hub: run.hub,
      repo: run.repo,
      commit: run.commit,
      file,
      dest,
      dataDir: request.dataDir,
      retries: request.retries ?? 5,
      retryDelayMs: request.retryDelayMs ?? 1000,
      onBytes: (count) => {
        progress.done += count;
        emit({ type: 'progress', path: file.local, bytes: progress.done, totalBytes: progress.totalBytes });
      },
      onRetry: (info) => emit({ type: 'retry', path: file.local, ...info }),
    });
    emit({ type: 'file_done', path: file.local, size: file.size, verified: result.verified, digest: result.digest, resumedFrom: result.resumedFrom, attempts: result.attempts });
  }
}

/** How much of a planned file is on disk: all of it (verified, named), or a partial download. */
async function bytesOnDisk(dest: string, file: PlannedFile): Promise<number> {
  const complete = await stat(dest).then(
    (s) => s.size,
    () => undefined,
  );
  if (complete === file.size) return file.size;
  return Math.min(await partialSize(dest), file.size);
}

/** Writes in the data folder, with its errors said as storage errors. */
async function ensure<T>(dataDir: string, run: () => Promise<T>): Promise<T> {
  try {
    await makeFolder(nodeFileSystem, installedModelsDir(dataDir));
    return await run();
  } catch (error) {
    throw storageError(error, dataDir, installedModelsDir(dataDir));
  }
}
