import { readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import * as z from 'zod';
import { DEFAULT_PORT } from '@styleset/protocol';
import { nodeFileSystem, writeFileAtomic } from '../storage';
import { DEFAULT_HOST, loadConfig, localUrl } from './config-file';

const DAEMON_FILE = 'daemon.json';

const daemonFileSchema = z.object({
  pid: z.int().positive(),
  /** Where a client on this machine connects. */
  url: z.string(),
  host: z.string(),
  port: z.int().min(1).max(65535),
  dataDir: z.string(),
  startedAt: z.string(),
});

/** Where a running daemon listens, as it recorded it at start. */
export type DaemonFile = z.infer<typeof daemonFileSchema>;

export function daemonFilePath(configDir: string): string {
  return join(configDir, DAEMON_FILE);
}

/**
 * Records where this daemon listens, so that `styleset pair` and `status` can name the real URL
 * (a `--port` flag or `--port 0` is in no config file). Written whole (draft and rename): a
 * reader never sees half of it. A later daemon with the same config folder overwrites it.
 */
export async function writeDaemonFile(configDir: string, daemon: DaemonFile): Promise<void> {
  await writeFileAtomic(nodeFileSystem, daemonFilePath(configDir), `${JSON.stringify(daemon, null, 2)}\n`);
}

/** Removes the file if it still describes this daemon (another may have started since and replaced it). */
export async function removeDaemonFile(configDir: string, daemon: Pick<DaemonFile, 'pid' | 'url'>): Promise<void> {
  const recorded = await readDaemonFile(configDir);
  if (recorded?.pid === daemon.pid && recorded.url === daemon.url) await rm(daemonFilePath(configDir), { force: true });
}

/**
 * The daemon recorded in the config folder, if it is running: its process exists and something
 * accepts connections where it said it listens. A file a killed daemon left behind fails one of
 * the two and is ignored (not removed: a daemon starting now may be about to replace it).
 */
export async function findRunningDaemon(configDir: string): Promise<DaemonFile | undefined> {
  const recorded = await readDaemonFile(configDir);
  if (recorded === undefined || !processExists(recorded.pid)) return undefined;
  return (await accepts(recorded.url)) ? recorded : undefined;
}

/** The running daemon's URL as it recorded it; else where `serve` would listen by config.json. */
export async function daemonUrl(configDir: string): Promise<{ url: string; running: boolean }> {
  const running = await findRunningDaemon(configDir);
  if (running !== undefined) return { url: running.url, running: true };
  const config = await loadConfig(configDir);
  return { url: localUrl(config.host ?? DEFAULT_HOST, config.port ?? DEFAULT_PORT), running: false };
}

async function readDaemonFile(configDir: string): Promise<DaemonFile | undefined> {
  try {
    return daemonFileSchema.parse(JSON.parse(await readFile(daemonFilePath(configDir), 'utf8')));
  } catch {
    // Missing, or not ours to understand: either way there is no daemon to name.
    return undefined;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a TCP connection to the URL's host and port is accepted within a second. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
