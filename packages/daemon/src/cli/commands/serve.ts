import { DEFAULT_PORT } from '@styleset/protocol';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_HOST, loadConfig, type Config } from '../../config/config-file';
import { resolveDirs } from '../../config/paths';
import { tokenPath } from '../../config/token';
import type { EngineSetup } from '../../engine/create-engine';
import type { Engine } from '../../engine/engine';
import { startDaemon, type Daemon } from '../../server/daemon';
import { DAEMON_LIMITS } from '../../server/daemon-limits';
import type { DaemonEvent } from '../../server/events';
import { formatBytes } from '../../storage';
import type { QueueAddress } from '../../team';
import { integer } from '../arguments';
import { addRuntimeOptions, runtimeFromFlags, type RuntimeFlags } from '../runtime-flags';

export type EngineFactory = (setup: EngineSetup) => Promise<Engine>;

interface ServeFlags extends RuntimeFlags {
  host?: string;
  port?: number;
  allowHost: string[];
  model: Record<string, string>;
  dataDir?: string;
  configDir?: string;
  queue?: string;
  json: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerServe(program: Command, createEngine: EngineFactory): void {
  const command = program
    .command('serve')
    .description('run the daemon: the WebSocket service the Figma plugin, the VS Code extension and scripts talk to')
    .option('--host <address>', `address to listen on (default: config "host", else ${DEFAULT_HOST}); see the README before serving other machines`)
    .option('--port <n>', `port (default: config "port", else ${DEFAULT_PORT}); 0 picks a free one`, integer(0, 65535))
    .option('--allow-host <name>', 'another Host name clients may use, e.g. the name a TLS proxy serves (repeatable; adds to config "allowedHosts")', (value: string, all: string[]) => [...all, value], [])
    .option('--model <id=dir>', 'offer the model folder under this id (repeatable; adds to config "models")', modelEntry, {})
    .option('--data-dir <dir>', 'job records and images (default: $STYLESET_DATA_DIR, else the platform data folder)')
    .option('--config-dir <dir>', 'token and config.json (default: $STYLESET_CONFIG_DIR, else the platform config folder)')
    .option('--queue <url>', "team mode: a front door to the team's queue at redis://HOST:PORT (rediss:// for TLS); jobs run on `styleset worker`s (README, Team)");
  addRuntimeOptions(command)
    .option('--json', 'log one JSON object per line on stdout instead of text', false)
    .action(async (flags: ServeFlags) => {
      await runServe(flags, createEngine);
    });
}

async function runServe(flags: ServeFlags, createEngine: EngineFactory): Promise<void> {
  const dirs = resolveDirs({ dataDir: flags.dataDir, configDir: flags.configDir });
  const config = await loadConfig(dirs.configDir);
  const log = flags.json ? logJson : logText;
  if (flags.queue !== undefined) {
    // Team mode loads BullMQ and ioredis (most of a second); nothing else does.
    const { parseQueueUrl } = await import('../../team');
    return runFrontDoor(flags, parseQueueUrl(flags.queue), dirs, config, log);
  }
  const engine = await createEngine({
    models: { ...config.models, ...flags.model },
    dataDir: dirs.dataDir,
    runtime: runtimeFromFlags(flags),
  });
  let daemon: Daemon;
  try {
    daemon = await startDaemon({
      engine,
      ...dirs,
      host: flags.host ?? config.host ?? DEFAULT_HOST,
      port: flags.port ?? config.port ?? DEFAULT_PORT,
      allowedHosts: [...(config.allowedHosts ?? []), ...flags.allowHost],
      maxJobsPerClient: config.maxJobsPerClient,
      maxJobs: config.maxJobs,
      keepJobsDays: config.keepJobsDays,
      maxConnections: config.maxConnections,
      onEvent: log,
    });
  } catch (error) {
    await engine.close();
    throw error;
  }
  const models = await engine.listModels();
  const started = {
    type: 'listening',
    url: daemon.url,
    host: daemon.host,
    addresses: daemon.addresses,
    port: daemon.port,
    ...dirs,
    tokenFile: tokenPath(dirs.configDir),
    defaultModel: engine.defaultModelId,
    models: models.map(({ id, kind, width, height, path }) => ({ id, kind, width, height, path })),
    interrupted: daemon.interrupted,
  };
  if (flags.json) {
    writeJson(started);
  } else {
    const list = models.map((m) => `${m.id} (${m.kind}, ${m.width}x${m.height})`);
    const lines = [
      `Styleset daemon listening on ${daemon.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(' and ')} port ${daemon.port} (${daemon.url})`,
      `  data    ${dirs.dataDir}`,
      `  token   ${started.tokenFile} (\`styleset pair\` prints it)`,
      `  models  ${list.join(', ')}; default: ${engine.defaultModelId}`,
    ];
    if (daemon.interrupted.length > 0) lines.push(`  ${daemon.interrupted.length} job(s) the last run left unfinished are now marked interrupted`);
    if (!LOOPBACK.has(daemon.host)) {
      lines.push(`  warning: listening beyond this machine; serve other machines only behind a TLS proxy (README, "A team's GPU box")`);
    }
    lines.push('Ctrl-C stops it; unfinished jobs are then marked interrupted.');
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  const signal = await nextSignal();
  if (flags.json) writeJson({ type: 'stopping', signal });
  else process.stdout.write(`${signal}: stopping; unfinished jobs are marked interrupted (${signal} again quits at once)\n`);
  await daemon.close();
  await engine.close();
}

/** `serve --queue`: the same service in front of a team's queue; no engine, no local job store. */
async function runFrontDoor(flags: ServeFlags, address: QueueAddress, dirs: { dataDir: string; configDir: string }, config: Config, log: (event: DaemonEvent) => void): Promise<void> {
  const { openFrontDoor } = await import('../../team');
  const daemon = await startDaemon({
    ...dirs,
    jobs: (onEvent) =>
      openFrontDoor({
        address,
        limits: { perClient: config.maxJobsPerClient ?? DAEMON_LIMITS.maxJobsPerClient, total: config.maxJobs ?? DAEMON_LIMITS.maxJobs },
        onEvent,
      }),
    host: flags.host ?? config.host ?? DEFAULT_HOST,
    port: flags.port ?? config.port ?? DEFAULT_PORT,
    allowedHosts: [...(config.allowedHosts ?? []), ...flags.allowHost],
    maxConnections: config.maxConnections,
    onEvent: log,
  });
  const started = { type: 'listening', url: daemon.url, host: daemon.host, addresses: daemon.addresses, port: daemon.port, queue: address.shown, configDir: dirs.configDir, tokenFile: tokenPath(dirs.configDir) };
  if (flags.json) {
    writeJson(started);
  } else {
    const lines = [
      `Styleset front door listening on ${daemon.addresses.map((a) => (a.includes(':') ? `[${a}]` : a)).join(' and ')} port ${daemon.port} (${daemon.url})`,
      `  queue   ${address.shown} (jobs run on \`styleset worker\`s; results are kept there)`,
      `  token   ${started.tokenFile} (\`styleset pair\` prints it)`,
    ];
    if (!LOOPBACK.has(daemon.host)) lines.push(`  warning: listening beyond this machine; serve other machines only behind a TLS proxy (README, "Team")`);
    lines.push('Ctrl-C stops it; jobs go on, on the workers, and other front doors serve them.');
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  const signal = await nextSignal();
  if (flags.json) writeJson({ type: 'stopping', signal });
  else process.stdout.write(`${signal}: stopping\n`);
  await daemon.close();
}

/** Resolves on the first SIGINT or SIGTERM; a second one gets Node's default handling: exit now. */
export function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function modelEntry(value: string, all: Record<string, string>): Record<string, string> {
  const match = /^([^=]+)=(.+)$/.exec(value);
  if (match === null) throw new InvalidArgumentError(`expected <id>=<folder>, got "${value}"`);
  return { ...all, [match[1]]: resolve(match[2]) };
}

export function writeJson(value: object): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...value })}\n`);
}

function logJson(event: DaemonEvent): void {
  writeJson(event);
}

function logText(event: DaemonEvent): void {
  const time = new Date().toTimeString().slice(0, 8);
  process.stdout.write(`${time} ${describe(event)}\n`);
}

function describe(event: DaemonEvent): string {
  switch (event.type) {
    case 'job': {
      const images = `${event.completed}/${event.count} images`;
      const why = event.error === undefined ? '' : `: ${event.error.code}: ${event.error.message}`;
      return `job ${event.jobId} (${event.kind}, ${images}, client ${event.clientId}) ${event.state}${why}`;
    }
    case 'connected':
      return `client ${event.clientId} connected from ${event.remoteAddress ?? 'an unknown address'}`;
    case 'disconnected':
      return `client ${event.clientId} disconnected (${event.code}${event.reason === '' ? '' : ` ${event.reason}`})`;
    case 'refused':
      return `refused ${event.remoteAddress ?? 'a client'}: ${event.reason}`;
    case 'slow_client':
      return `client ${event.clientId} closed: ${event.bufferedBytes} bytes unread and a ${event.frameBytes}-byte frame to send, over the limit of ${event.limit}`;
    case 'warning':
      return event.message;
    case 'pruned': {
      const parts = [`${event.jobs} finished job(s) older than ${event.olderThanDays} days`];
      if (event.trajectories > 0) parts.push(`${event.trajectories} unused trajectory(ies)`);
      for (const cache of event.caches) parts.push(`the obsolete ${cache}/`);
      return `pruned ${parts.join(', ')}: ${formatBytes(event.bytes)} freed`;
    }
  }
}
