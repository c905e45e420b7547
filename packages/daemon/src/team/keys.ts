/**
 * Every Redis key team mode uses besides BullMQ's own, under one prefix, so that several teams (or
 * tests) can share a server. Ids are the job store's hex ids; nothing from clients is put in a key
 * but a pairing token's hash.
 */
export class TeamKeys {
  constructor(readonly prefix = 'styleset') {}

  /** The BullMQ queue's name (its keys live under BullMQ's prefix `bull:`). */
  get queue(): string {
    return `${this.prefix}-jobs`;
  }

  /** A job's record (JSON, the same fields as job.json). */
  record(id: string): string {
    return `${this.prefix}:job:${id}`;
  }

  /** One stored result's bytes, named as in the data folder (`00.png`, `00.svg`). */
  result(id: string, file: string): string {
    return `${this.prefix}:job:${id}:${file}`;
  }

  /** Set when a client asked to stop the job; the worker running it polls it. */
  cancel(id: string): string {
    return `${this.prefix}:job:${id}:cancel`;
  }

  /** Live (queued or running) job ids of one pairing token: its limit and its `get_queue`. */
  owner(tokenHash: string): string {
    return `${this.prefix}:owner:${tokenHash}`;
  }

  /** Finished jobs by end time (sorted set), and their stored bytes (hash): the retention. */
  get finished(): string {
    return `${this.prefix}:finished`;
  }

  get sizes(): string {
    return `${this.prefix}:sizes`;
  }

  /** One stream of every job's events, in order; every front door reads it. */
  get events(): string {
    return `${this.prefix}:events`;
  }

  /** Workers' announcements: worker id -> JSON (hash), refreshed while they live. */
  get workers(): string {
    return `${this.prefix}:workers`;
  }
}
