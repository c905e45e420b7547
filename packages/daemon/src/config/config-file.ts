import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { StylesetError } from '../errors';

/**
 * Loopback only: serving other machines is an explicit choice (see the README's team setup).
 * `localhost` listens on 127.0.0.1 and, where the machine has IPv6, on ::1: every name the Host
 * check lets through then reaches the daemon.
 */
export const DEFAULT_HOST = 'localhost';

const CONFIG_FILE = 'config.json';

/** How long finished jobs stay in the data folder unless config.json says otherwise (`keepJobsDays`). */
export const DEFAULT_KEEP_JOBS_DAYS = 30;

const configSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: z.int().min(0).max(65535).optional(),
  /** Host names besides localhost that clients may use, e.g. the name a TLS proxy serves. */
  allowedHosts: z.array(z.string().min(1)).optional(),
  /** Model id -> model folder; relative folders are relative to the config folder. */
  models: z.record(z.string().min(1).max(256), z.string().min(1)).optional(),
  /** Queued and running jobs of one pairing token, from all its connections. */
  maxJobsPerClient: z.int().min(1).optional(),
  /** Queued and running jobs in all. */
  maxJobs: z.int().min(1).optional(),
  /** Days a finished job's record and images are kept after it ended; 0 keeps them forever. */
  keepJobsDays: z.number().min(0).optional(),
  /** Paired connections at once (see DAEMON_LIMITS). */
  maxConnections: z.int().min(1).optional(),
});

export type Config = z.infer<typeof configSchema>;

export function configPath(configDir: string): string {
  return join(configDir, CONFIG_FILE);
}

/** The config file, or `{}` when there is none; model folders come back absolute. */
export async function loadConfig(configDir: string): Promise<Config> {
  const file = configPath(configDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StylesetError('invalid_config', `${file}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const where = key.length > 0 ? key.join('.') : 'the file';
    throw new StylesetError('invalid_config', `${file}: ${where}: ${issue.message}`);
  }
  const { models, ...rest } = parsed.data;
  if (models === undefined) return rest;
  return {
    ...rest,
    models: Object.fromEntries(Object.entries(models).map(([id, dir]) => [id, resolve(configDir, dir)])),
  };
}

/** Where a client on this machine reaches a daemon listening on `host`:`port`. */
export function localUrl(host: string, port: number): string {
  // A daemon on every interface is still reachable on loopback, which needs no allowedHosts entry;
  // on `localhost` it always has 127.0.0.1 (::1 only where the machine has IPv6).
  const reachable = ['0.0.0.0', '::', 'localhost'].includes(host) ? '127.0.0.1' : host;
  return `ws://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
