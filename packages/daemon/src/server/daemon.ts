import { DEFAULT_PORT, LIMITS, PROTOCOL_VERSION } from '@styleset/protocol';
import packageJson from '../../package.json' with { type: 'json' };
import { DEFAULT_HOST, DEFAULT_KEEP_JOBS_DAYS, localUrl } from '../config/config-file';
import { daemonFilePath, removeDaemonFile, writeDaemonFile } from '../config/daemon-file';
import { loadOrCreateToken } from '../config/token';
import type { Engine } from '../engine/engine';
import { StylesetError } from '../errors';
import { StyleStore } from '../styles';
import { describeTightened, folderAndSubfolders, makeFoldersPrivate, storageError, type FileSystem } from '../storage';
import { Admission } from './admission';
import { Connection, type ConnectionStats } from './connection';
import { DAEMON_LIMITS, type DaemonLimits } from './daemon-limits';
import type { DaemonEvent } from './events';
import type { JobApi } from './job-api';
import { JobService } from './job-service';
import { JobStore } from './job-store';
import { startRetention } from './retention-timer';
import { listen, type ListenAddress } from './ws-server';

/**
 * Where a daemon's jobs go instead of its own queue and data folder (team mode's front door): it
 * gets the daemon's event log and owns everything about jobs; the daemon keeps the connections,
 * the pairing token and the Host allowlist.
 */
export type OpenJobs = (onEvent: (event: DaemonEvent) => void) => Promise<JobApi>;

/** Any limit left out is DAEMON_LIMITS'. */
export interface DaemonOptions extends Partial<DaemonLimits> {
  /** Runs the jobs, one at a time, stored in `dataDir`; unused with `jobs`. */
  engine?: Engine;
  /** Team mode: jobs go there, and `engine`, `dataDir`, the retention and fileSystem are unused. */
  jobs?: OpenJobs;
  /** Job records and result images; nothing else is written, and nothing outside it is read. */
  dataDir: string;
  /** Holds the pairing token (created on first start). */
  configDir: string;
  /** The job store's file operations; default the real ones (tests inject failures). */
  fileSystem?: FileSystem;
  /** Default `localhost`: 127.0.0.1, and ::1 where the machine has it. */
  host?: string;
  /** Default DEFAULT_PORT; 0 picks a free port (see `Daemon.port`). */
  port?: number;
  /** Host header names accepted besides localhost, 127.0.0.1 and [::1]. */
  allowedHosts?: readonly string[];
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
  /** The addresses it listens on (`localhost` is one or two of them). */
  readonly addresses: readonly string[];
  readonly port: number;
  /** Where a client on this machine connects. */
  readonly url: string;
  /** Jobs the previous run left queued or running, now recorded as interrupted. */
  readonly interrupted: readonly string[];
  /** What it holds for its clients now, for tests and diagnostics. */
  stats(): DaemonStats;
  /** Interrupts unfinished jobs, closes every connection, stops listening. The engine stays open. */
  close(): Promise<void>;
}

export interface DaemonStats {
  /** Every open connection, paired or not, in the order they came. */
  connections: ConnectionStats[];
  /** Connection slots taken in each budget (DAEMON_LIMITS.maxConnections, maxUnpairedConnections). */
  paired: number;
  unpaired: number;
  /** Clients following live jobs, summed over the jobs. */
  followers: number;
}

/** How long a client gets to answer the close handshake on shutdown. */
const CLOSE_GRACE_MS = 1000;

export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { host = DEFAULT_HOST, port = DEFAULT_PORT } = options;
  const limits = limitsOf(options);
  const onEvent = options.onEvent ?? (() => {});
  // Owner-only before anything is written in them: the token, the user's prompts and images.
  const tightened = await makeFoldersPrivate([options.configDir]);
  if (options.jobs === undefined) {
    try {
      tightened.push(...(await makeFoldersPrivate(await folderAndSubfolders(options.dataDir))));
    } catch (error) {
      throw storageError(error, options.dataDir, options.dataDir);
    }
  }
  for (const change of tightened) onEvent({ type: 'warning', message: describeTightened(change) });
  const token = await loadOrCreateToken(options.configDir);
  const { service, retention, interrupted } = options.jobs === undefined ? await openLocalJobs(options, limits, onEvent) : { service: await options.jobs(onEvent), retention: undefined, interrupted: [] };
  const welcome = {
    v: PROTOCOL_VERSION,
    type: 'welcome',
    daemonVersion: packageJson.version,
    limits: LIMITS,
    // Read on every hello: a team's front door learns its default from the workers.
    get defaultModel() {
      return service.defaultModelId;
    },
  } as const;
  const connections = new Set<Connection>();
  const admission = new Admission<Connection>(
    { paired: limits.maxConnections, unpaired: limits.maxUnpairedConnections },
    (connection) => connection.standing(),
  );
  const admit = (connection: Connection) => {
    const pairing = admission.pair(connection);
    if (!pairing.admitted) {
      return {
        code: 'too_many_connections',
        message:
          `the daemon already has ${limits.maxConnections} paired connections, its limit (maxConnections in config.json), ` +
          'and each is waiting on a job or a reply; try again when one finishes',
      } as const;
    }
    pairing.displaced?.displace(`idle the longest of ${limits.maxConnections} paired connections (maxConnections); reconnect when needed`);
    return undefined;
  };
  let connectionCount = 0;
  const listener = await listen({
    addresses: listenAddresses(host),
    port,
    allowedHosts: options.allowedHosts ?? [],
    closeTimeoutMs: limits.closeTimeoutMs,
    onConnection: (socket, request, transport) => {
      const { remoteAddress } = transport;
      const connection = new Connection(socket, { id: `c${++connectionCount}`, token, service, welcome, limits, transport, remoteAddress, admit, onEvent });
      connections.add(connection);
      socket.once('close', () => {
        connections.delete(connection);
        admission.leave(connection);
      });
      onEvent({ type: 'connected', clientId: connection.id, remoteAddress });
      admission.arrive(connection)?.displace(`${limits.maxUnpairedConnections} connections have not paired (maxUnpairedConnections); this was the oldest`);
    },
    onRefused: (reason, request) => onEvent({ type: 'refused', reason, remoteAddress: request.socket.remoteAddress }),
    onSkipped: (address, error) => onEvent({ type: 'warning', message: `not listening on ${address} (${error.code}): this machine does not have it` }),
  }).catch(async (error: NodeJS.ErrnoException) => {
    await retention?.stop();
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
    addresses: listener.hosts,
    port: listener.port,
    url,
    interrupted: interrupted.map((record) => record.id),
    stats: () => ({
      connections: [...connections].map((connection) => connection.stats()),
      ...admission.counts,
      followers: service.followerCount(),
    }),
    close: () =>
      (closing ??= (async () => {
        await retention?.stop();
        // Jobs first, so that clients still connected are told theirs were interrupted.
        await service.close();
        await Promise.all([...connections].map((connection) => connection.close(CLOSE_GRACE_MS)));
        await listener.close();
        await removeDaemonFile(options.configDir, recorded).catch(() => undefined);
      })()),
  };
}

/** The daemon's own queue, on its engine, with the job store and its retention in the data folder. */
async function openLocalJobs(options: DaemonOptions, limits: DaemonLimits, onEvent: (event: DaemonEvent) => void) {
  const { engine } = options;
  if (engine === undefined) throw new Error('startDaemon needs an engine, or jobs');
  const { store, interrupted } = await JobStore.open(options.dataDir, (message) => onEvent({ type: 'warning', message }), { fs: options.fileSystem });
  const service = new JobService({
    engine,
    store,
    styles: new StyleStore(options.dataDir, (message) => onEvent({ type: 'warning', message })),
    limits: { perClient: limits.maxJobsPerClient, total: limits.maxJobs },
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
  return { service, retention, interrupted };
}

/** `localhost` is both loopbacks; ::1 only where the machine has IPv6. */
function listenAddresses(host: string): ListenAddress[] {
  return host === 'localhost' ? [{ host: '127.0.0.1' }, { host: '::1', optional: true }] : [{ host }];
}

function limitsOf(options: DaemonOptions): DaemonLimits {
  const limits: DaemonLimits = { ...DAEMON_LIMITS };
  for (const key of Object.keys(DAEMON_LIMITS) as (keyof DaemonLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  return limits;
}

function listenError(error: NodeJS.ErrnoException & { address?: string }, listenHost: string, port: number): Error {
  // `localhost` is two addresses: name the one that failed.
  const host = error.address?.includes(':') ? `[${error.address}]` : (error.address ?? listenHost);
  if (error.code === 'EADDRINUSE') {
    return new StylesetError('address_in_use', `${host}:${port} is in use: is another \`styleset serve\` running? Choose another port with --port`, { cause: error });
  }
  if (error.code === 'EACCES' || error.code === 'EADDRNOTAVAIL') {
    return new StylesetError('address_unavailable', `cannot listen on ${host}:${port} (${error.code}): choose another --host or --port`, { cause: error });
  }
  return error;
}
