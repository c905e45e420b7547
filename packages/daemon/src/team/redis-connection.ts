import type { ConnectionOptions } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { QueueAddress } from './queue-url';

/**
 * BullMQ and ioredis, loaded on first use: importing them takes most of a second, which every
 * other command (and the single daemon) would otherwise pay at start.
 */
export async function queueLibraries(): Promise<{ bullmq: typeof import('bullmq'); Redis: typeof Redis }> {
  const [bullmq, ioredis] = await Promise.all([import('bullmq'), import('ioredis')]);
  return { bullmq, Redis: ioredis.Redis };
}

/**
 * What BullMQ and this module's own clients connect with. Commands wait through a Redis restart
 * (no retry limit, the offline queue kept) and ioredis reconnects by itself, backing off to a
 * second: a front door or worker outlives its Redis restarting.
 */
export function redisOptions(address: QueueAddress): RedisOptions {
  const { host, port, db, username, password, tls } = address;
  return {
    host,
    port,
    db,
    username,
    password,
    tls,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(100 * times, 1000),
  };
}

/** A client of its own (blocking reads need one); errors go to `warn`, once per outage. */
export function connectRedis(RedisClient: typeof Redis, address: QueueAddress, name: string, warn: (message: string) => void): Redis {
  const client = new RedisClient({ ...redisOptions(address), connectionName: name });
  let down = false;
  const lost = (why: string) => {
    if (down) return;
    down = true;
    // ioredis' messages name the host and port, never the password; the URL shown is redacted.
    warn(`redis ${address.shown}: ${why}; reconnecting`);
  };
  client.on('error', (error: Error) => lost(error.message));
  client.on('reconnecting', () => lost('connection lost'));
  client.on('ready', () => {
    if (down) warn(`redis ${address.shown}: connected again`);
    down = false;
  });
  return client;
}

/** The same, as BullMQ's options type spells it (its copy of ioredis' option types differs in details it does not read). */
export function bullConnection(address: QueueAddress): ConnectionOptions {
  return redisOptions(address) as ConnectionOptions;
}
