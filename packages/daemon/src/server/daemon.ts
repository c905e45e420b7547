import { DEFAULT_PORT, LIMITS, PROTOCOL_VERSION } from '@styleset/protocol';
import packageJson from '../../package.json' with { type: 'json' };
import { DEFAULT_HOST, DEFAULT_KEEP_JOBS_DAYS, localUrl } from '../config/config-file';
import { daemonFilePath, removeDaemonFile, writeDaemonFile } from '../config/daemon-file';
import { loadOrCreateToken } from '../config/token';
import type { Engine } from '../engine/engine';
import { StylesetError } from '../errors';
import { describeTightened, folderAndSubfolders, makeFoldersPrivate, storageError, type FileSystem } from '../storage';
import { Connection } from './connection';
import type { DaemonEvent } from './events';
import { JobService } from './job-service';
import { JobStore } from './job-store';
import { startRetention } from './retention-timer';
import { listen } from './ws-server';

export interface DaemonOptions {
  engine: Engine;
  /** Job records and result images; nothing else is written, and nothing outside it is read. */
  dataDir: string;
  /** Holds the pairing token (created on first start). */
  configDir: string;
  /** The job store's file operations; default the real ones (tests inject failures). */
  fileSystem?: FileSystem;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_PORT; 0 picks a free port (see `Daemon.port`). */
  port?: number;
  /** Host header names accepted besides localhost, 127.0.0.1 and [::1]. */
  allowedHosts?: readonly string[];
  /** Queued and running jobs per connection; default 8. */
  maxJobsPerClient?: number;
  /** Queued and running jobs in all; default 64. */
  maxJobs?: number;
  /** Default 32. */
  maxConnections?: number;
  /** A connection that has not paired by then is closed; default 10 s. */
  helloTimeoutMs?: number;
  /** Ping period; a client that has not answered a ping by the next one is dropped. Default 30 s. */
  heartbeatMs?: number;
  /** A job's progress goes out at most this often (phase ends and previews always do); default 100 ms. */
  progressIntervalMs?: number;
  /** Finished jobs are deleted this many days after they ended; 0 keeps them. Default DEFAULT_KEEP_JOBS_DAYS. */
  keepJobsDays?: number;
  /** How often the retention runs after the run at start; default an hour. */
  retentionIntervalMs?: number;
  /** The retention's clock (epoch ms); default Date.now. */
  now?(): number;
  onEvent?(event: DaemonEvent): void;
}

export interface Daemon {
  readonly host: string;
  readonly port: number;
  /** Where a client on this machine connects. */
  readonly url: string;
  /** Jobs the previous run left queued or running, now recorded as interrupted. */
  readonly interrupted: readonly string[];
  /** Interrupts unfinished jobs, closes every connection, stops listening. The engine stays open. */
  close(): Promise<void>;
}

/** How long a client gets to answer the close handshake on shutdown. */
const CLOSE_GRACE_MS = 1000;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { engine, host = DEFAULT_HOST, port = DEFAULT_PORT } = options;
  const onEvent = options.onEvent ?? (() => {});
  // Owner-only before anything is written in them: the token, the user's prompts and images.
  const tightened = await makeFoldersPrivate([options.configDir]);
  try {
    tightened.push(...(await makeFoldersPrivate(await folderAndSubfolders(options.dataDir))));
  } catch (error) {
    throw storageError(error, options.dataDir, options.dataDir);
  }
  for (const change of tightened) onEvent({ type: 'warning', message: describeTightened(change) });
  const token = await loadOrCreateToken(options.configDir);
  const { store, interrupted } = await JobStore.open(options.dataDir, (message) => onEvent({ type: 'warning', message }), { fs: options.fileSystem });
  const service = new JobService({
    engine,
    store,
    limits: { perClient: options.maxJobsPerClient ?? 8, total: options.maxJobs ?? 64 },
    progressIntervalMs: options.progressIntervalMs,
    onEvent,
  });
  const retention = startRetention({
    dataDir: options.dataDir,
    store,
    keepJobsDays: options.keepJobsDays ?? DEFAULT_KEEP_JOBS_DAYS,
    intervalMs: options.retentionIntervalMs ?? 60 * 60 * 1000,
    now: options.now ?? Date.now,
    onEvent,
  });
  const welcome = {
    v: PROTOCOL_VERSION,
    type: 'welcome',
    daemonVersion: packageJson.version,
    limits: LIMITS,
    defaultModel: engine.defaultModelId,
  } as const;
  const connections = new Set<Connection>();
  let connectionCount = 0;
  const listener = await listen({
    host,
    port,
    allowedHosts: options.allowedHosts ?? [],
    maxConnections: options.maxConnections ?? 32,
    onConnection: (socket, request) => {
      const { remoteAddress } = request.socket;
      const connection = new Connection(socket, {
        id: `c${++connectionCount}`,
        token,
        service,
        welcome,
        helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
        heartbeatMs: options.heartbeatMs ?? 30_000,
        remoteAddress,
        onEvent,
      });
      connections.add(connection);
      socket.once('close', () => connections.delete(connection));
      onEvent({ type: 'connected', clientId: connection.id, remoteAddress });
    },
    onRefused: (reason, request) => onEvent({ type: 'refused', reason, remoteAddress: request.socket.remoteAddress }),
  }).catch(async (error: NodeJS.ErrnoException) => {
    await retention.stop();
    await service.close();
    throw listenError(error, host, port);
  });

  const url = localUrl(host, listener.port);
  const recorded = { pid: process.pid, url };
  try {
    await writeDaemonFile(options.configDir, { ...recorded, host, port: listener.port, dataDir: options.dataDir, startedAt: new Date().toISOString() });
  } catch (error) {
    onEvent({ type: 'warning', message: `cannot record where this daemon listens in ${daemonFilePath(options.configDir)}: ${(error as Error).message}` });
  }

  let closing: Promise<void> | undefined;
  return {
    host,
    port: listener.port,
    url,
    interrupted: interrupted.map((record) => record.id),
    close: () =>
      (closing ??= (async () => {
        await retention.stop();
        // Jobs first, so that clients still connected are told theirs were interrupted.
        await service.close();
        await Promise.all([...connections].map((connection) => connection.close(CLOSE_GRACE_MS)));
        await listener.close();
        await removeDaemonFile(options.configDir, recorded).catch(() => undefined);
      })()),
  };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new StylesetError('address_in_use', `${host}:${port} is in use: is another \`styleset serve\` running? Choose another port with --port`, { cause: error });
  }
  if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') {
    return new StylesetError('address_unavailable', `cannot listen on ${host}:${port} (${error.code}): choose another --host or --port`, { cause: error });
  }
  return error;
}
