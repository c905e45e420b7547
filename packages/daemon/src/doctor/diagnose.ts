import { PROTOCOL_VERSION } from '@styleset/protocol';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { arch, platform, release, type } from 'node:os';
import { join } from 'node:path';
import packageJson from '../../package.json' with { type: 'json' };
import { loadConfig, type Config } from '../config/config-file';
import { daemonUrl, findRunningDaemon, type DaemonFile } from '../config/daemon-file';
import type { Dirs } from '../config/paths';
import { defaultModelDir, EMBEDDED_MODEL_ID } from '../model/default-model';
import { runtimeInfo, type ProviderInfo } from '../model/runtime';
import { listPartialDownloads, scanInstalledModels } from '../model-store';
import type { ServiceBackend, ServiceIo, StatusReport } from '../service';
import { serviceStatus } from '../service';
import { folderBytes, reportFolder, type FolderReport } from './folder-report';

/** Below this much free space on the data folder's disk, doctor counts it as a problem. */
export const LOW_DISK_BYTES = 1e9;

export interface ModelReport {
  id: string;
  /** Shipped in the package, named in config.json, or installed with `styleset pull`. */
  source: 'embedded' | 'config' | 'installed';
  dir: string;
  bytes: number;
  family?: string;
  /** Why it cannot be used, if it cannot. */
  problem?: string;
}

export interface Diagnosis {
  versions: { styleset: string; protocol: number; node: string; onnxruntime: string; os: string };
  /** This CLI's files and the Node.js that runs it. */
  install: { cli: string; node: string; npxCache: boolean };
  onnxruntime: { packageDir: string; providers: ProviderInfo[] };
  models: ModelReport[];
  partialDownloads: { dir: string; bytes: number }[];
  folders: { data: FolderReport; config: FolderReport };
  /** Sizes of what the data folder holds, by its folders (jobs/, models/, model-cache/, trajectories/). */
  dataUsage: { name: string; bytes: number }[];
  daemon: { running: true; url: string; pid: number; startedAt: string } | { running: false; url: string };
  service: ({ kind: string; definition: string } & StatusReport) | { unavailable: string };
  /** What keeps Styleset from working as it should, each with what to do. */
  problems: string[];
}

export interface DiagnoseOptions {
  dirs: Dirs;
  cli: string;
  npxCache: boolean;
  /** The service manager, or why there is none on this platform. */
  service: { backend: ServiceBackend; io: ServiceIo } | { unavailable: string };
}

/** Everything a support request needs, read without changing anything. */
export async function diagnose(options: DiagnoseOptions): Promise<Diagnosis> {
  const { dirs } = options;
  const runtime = runtimeInfo();
  const [data, config] = [await reportFolder(dirs.dataDir), await reportFolder(dirs.configDir)];
  const models = await modelReports(dirs);
  const running: DaemonFile | undefined = await findRunningDaemon(dirs.configDir);
  const daemon = running ? { running: true as const, url: running.url, pid: running.pid, startedAt: running.startedAt } : { running: false as const, url: (await daemonUrl(dirs.configDir)).url };
  const service =
    'unavailable' in options.service
      ? { unavailable: options.service.unavailable }
      : { kind: options.service.backend.kind, definition: options.service.backend.definition, ...(await serviceStatus(options.service.backend, options.service.io)) };
  const diagnosis: Diagnosis = {
    versions: {
      styleset: packageJson.version,
      protocol: PROTOCOL_VERSION,
      node: process.versions.node,
      onnxruntime: runtime.version,
      os: `${type()} ${release()} (${platform()}-${arch()})`,
    },
    install: { cli: options.cli, node: process.execPath, npxCache: options.npxCache },
    onnxruntime: { packageDir: runtime.packageDir, providers: runtime.providers },
    models,
    partialDownloads: (await listPartialDownloads(dirs.dataDir)).map(({ dir, bytes }) => ({ dir, bytes })),
    folders: { data, config },
    dataUsage: await dataUsage(dirs.dataDir),
    daemon,
    service,
    problems: [],
  };
  diagnosis.problems = findProblems(diagnosis);
  return diagnosis;
}

async function modelReports(dirs: Dirs): Promise<ModelReport[]> {
  const reports: ModelReport[] = [];
  const embedded = defaultModelDir();
  reports.push({
    id: EMBEDDED_MODEL_ID,
    source: 'embedded',
    dir: embedded,
    bytes: await folderBytes(embedded),
    problem: existsSync(join(embedded, 'model_index.json')) ? undefined : 'missing: this installation is incomplete; install Styleset again',
  });
  const configured: Config = await loadConfig(dirs.configDir).catch((error: Error) => {
    reports.push({ id: '(config.json)', source: 'config', dir: dirs.configDir, bytes: 0, problem: error.message });
    return {};
  });
  for (const [id, dir] of Object.entries(configured.models ?? {})) {
    const present = existsSync(join(dir, 'model_index.json'));
    reports.push({ id, source: 'config', dir, bytes: await folderBytes(dir), problem: present ? undefined : `no model_index.json in ${dir}: fix "models" in config.json` });
  }
  const { models, unreadable } = await scanInstalledModels(dirs.dataDir);
  for (const { id, dir, record } of models) reports.push({ id, source: 'installed', dir, bytes: record.bytes, family: record.family });
  for (const { dir, reason } of unreadable) reports.push({ id: '?', source: 'installed', dir, bytes: await folderBytes(dir), problem: `not a model: ${reason}` });
  return reports;
}

async function dataUsage(dataDir: string): Promise<{ name: string; bytes: number }[]> {
  const entries = await readdir(dataDir, { withFileTypes: true }).catch(() => []);
  const usage = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    usage.push({ name: `${entry.name}/`, bytes: await folderBytes(join(dataDir, entry.name)) });
  }
  return usage;
}

function findProblems(d: Diagnosis): string[] {
  const problems: string[] = [];
  for (const [role, folder] of Object.entries(d.folders)) {
    if (folder.exists && folder.ownedByMe === false) problems.push(`the ${role} folder ${folder.path} belongs to another user (made with sudo?): give it back with chown -R`);
    if (!folder.writable) problems.push(`the ${role} folder ${folder.path} is not writable by you`);
    if (folder.exists && folder.ownerOnly === false) problems.push(`the ${role} folder ${folder.path} is readable by other users (mode ${folder.mode}); the daemon makes it 0700 when it starts`);
  }
  if (d.folders.data.freeBytes < LOW_DISK_BYTES) problems.push(`${d.folders.data.path} is on a disk with ${Math.round(d.folders.data.freeBytes / 1e6)} MB free: jobs and models need room`);
  for (const model of d.models) if (model.problem !== undefined) problems.push(`model ${model.id} (${model.dir}): ${model.problem}`);
  if ('state' in d.service && d.service.installed && !d.service.state.registered) problems.push(`the ${d.service.kind} ${d.service.definition} is written but not registered (${d.service.state.detail}): run \`styleset service install\` again`);
  if ('state' in d.service && d.service.state.registered && !d.service.state.running) problems.push(`the ${d.service.kind} is registered but not running (${d.service.state.detail}): see its log`);
  return problems;
}
