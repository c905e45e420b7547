import { PROTOCOL_VERSION, type DaemonMessageOf, type ModelInfo, type StyleInfo, type SubmitMessage } from '@styleset/protocol';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { EMBEDDED_MODEL_ID } from '../model/default-model';
import type { DaemonEvent } from '../server/events';
import type { JobApi } from '../server/job-api';
import { completedImages, endState, resultEvent, statusEvent, type JobEvent } from '../server/job-messages';
import type { QueueLimits } from '../server/job-queue';
import type { Client } from '../server/job-service';
import { isFinished, type JobRecord, type StoredResult } from '../server/job-store';
import { RequestError } from '../server/request-error';
import { prepareJob, queuedRecord, stylesNotKept } from '../server/submission';
import { toQueuedJob } from './job-data';
import { TeamKeys } from './keys';
import type { QueueAddress } from './queue-url';
import { bullConnection, connectRedis, queueLibraries } from './redis-connection';
import { RedisJobStore } from './redis-job-store';
import { offeredModels, type WorkerAnnouncement } from './routing';
import { decodeStreamEvent, type StreamedEvent } from './stream-events';

export interface FrontDoorOptions {
  address: QueueAddress;
  keys?: TeamKeys;
  /** Per pairing token and for the whole team's queue (waiting and running jobs). */
  limits: QueueLimits;
  onEvent(event: DaemonEvent): void;
}

/** How often the workers' announcements are read again for the default model. */
const MODELS_REFRESH_MS = 5_000;
/** How long the events reader blocks before it looks again (and sees a close). */
const READ_BLOCK_MS = 2_000;
/** A cancel that sees no end event re-reads the record this often (an event lost in a Redis restart). */
const END_RECHECK_MS = 1_000;
/** A cancel flag outlives any job that could read it. */
const CANCEL_FLAG_SECONDS = 7 * 86_400;

type Followers = Map<Client, Set<string>>;

/**
 * A team's front door: the daemon's connections (token, Host allowlist, limits) in front of the
 * team's BullMQ queue instead of the daemon's own. Jobs are checked here as the daemon checks them,
 * recorded in Redis, queued; their events come back from whichever worker runs them through one
 * Redis stream that every front door reads, so a client may follow any job of its token from any
 * front door (after its own died, say). Results are read from Redis, where the worker stored them
 * before it announced them.
 */
export async function openFrontDoor(options: FrontDoorOptions): Promise<JobApi> {
  const door = new FrontDoor(options, await queueLibraries());
  await door.start();
  return door;
}

class FrontDoor implements JobApi {
  private readonly keys: TeamKeys;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly store: RedisJobStore;
  private readonly queue: Queue;
  private readonly followers = new Map<string, Followers>();
  /** Jobs submitted here: what the log says of them. */
  private readonly local = new Map<string, { kind: JobRecord['kind']; count: number; clientId: string }>();
  /** The last position each queued job's followers were told. */
  private readonly positions = new Map<string, number>();
  private readonly endWaiters = new Map<string, Array<() => void>>();
  private defaultModel = EMBEDDED_MODEL_ID;
  private closed = false;
  private reading?: Promise<void>;
  private refresh?: NodeJS.Timeout;

  constructor(
    private readonly options: FrontDoorOptions,
    { bullmq, Redis }: Awaited<ReturnType<typeof queueLibraries>>,
  ) {
    this.keys = options.keys ?? new TeamKeys();
    const warn = (message: string) => options.onEvent({ type: 'warning', message });
    this.redis = connectRedis(Redis, options.address, 'styleset-front-door', warn);
    this.reader = connectRedis(Redis, options.address, 'styleset-front-door-events', () => undefined);
    this.store = new RedisJobStore(this.redis, this.keys);
    this.queue = new bullmq.Queue(this.keys.queue, { connection: bullConnection(options.address) });
    this.queue.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await this.queue.waitUntilReady();
    // Events from now on: a client that follows a job later first gets its status, with what it missed.
    const [last] = await this.redis.xrevrange(this.keys.events, '+', '-', 'COUNT', 1);
    this.reading = this.read(last?.[0] ?? '0-0');
    await this.listModels();
    // The welcome names the default model: kept current as workers come and go.
    this.refresh = setInterval(() => void this.listModels().catch(() => undefined), MODELS_REFRESH_MS);
  }

  get defaultModelId(): string {
    return this.defaultModel;
  }

  async listModels(): Promise<ModelInfo[]> {
    const workers = await this.workers();
    const live = workers.filter((w) => offeredModels([w], Date.now()).length > 0).sort((a, b) => a.id.localeCompare(b.id));
    if (live.length > 0) this.defaultModel = live[0].defaultModel;
    return offeredModels(workers, Date.now());
  }

  async getModel(id: string): Promise<ModelInfo> {
    const model = (await this.listModels()).find((m) => m.id === id);
    if (model === undefined) throw new RequestError('model_not_found', `no model ${JSON.stringify(id)}`, 'model');
    return model;
  }

  async submit(client: Client, message: SubmitMessage, bytes: Uint8Array | undefined): Promise<void> {
    await this.checkRoom(client);
    const inversion = message.kind === 'reference' && message.inversionJobId !== undefined ? await this.visible(client, message.inversionJobId) : undefined;
    const models = await this.listModels();
    if (models.length === 0) throw new RequestError('model_not_found', 'no worker of this team is running: start one with `styleset worker --queue ...`', 'options.model');
    const { input } = await prepareJob(message, bytes, {
      engine: { listModels: async () => models, defaultModelId: this.defaultModel },
      findJob: (jobId) => (jobId === inversion?.id ? inversion : undefined),
    });
    const record = queuedRecord({ tokenHash: client.tokenHash, clientId: client.id }, message, input);
    // Stored before it is queued, and followed before any worker can take it.
    await this.store.add(record);
    this.follow(record.id, client, message.id);
    this.local.set(record.id, { kind: record.kind, count: record.count, clientId: client.id });
    const ahead = await this.queue.getWaitingCount();
    try {
      await this.queue.add('job', toQueuedJob(record.id, input), { jobId: record.id, removeOnComplete: true, removeOnFail: { count: 1000 } });
    } catch (error) {
      // Never queued: it was never accepted either.
      this.unfollow(record.id, client);
      this.local.delete(record.id);
      await this.store.remove(record).catch(() => undefined);
      throw error;
    }
    this.positions.set(record.id, ahead);
    client.send({ v: PROTOCOL_VERSION, id: message.id, type: 'accepted', jobId: record.id, position: ahead, count: record.count });
    this.report(record);
  }

  async cancel(client: Client, jobId: string, requestId: string): Promise<DaemonMessageOf<'status'>> {
    let record = await this.access(client, jobId);
    if (!isFinished(record.state)) {
      await this.redis.set(this.keys.cancel(jobId), '1', 'EX', CANCEL_FLAG_SECONDS);
      const job = await this.queue.getJob(jobId);
      // Still waiting: it leaves the queue here (BullMQ refuses to remove a job a worker holds).
      const removed = job !== undefined && (await job.remove().then(() => true, () => false));
      if (removed) {
        record.error = { code: 'cancelled', message: `job ${jobId} was cancelled` };
        record.state = 'cancelled';
        record.timings.finishedAt = Date.now();
        await this.store.end(record);
        this.store.takeAnnouncedEnd(jobId);
      }
      record = await this.waitEnded(jobId);
    }
    return { ...statusEvent(record), id: requestId };
  }

  async status(client: Client, jobId: string, requestId: string, follow: boolean): Promise<DaemonMessageOf<'status'>> {
    await this.access(client, jobId);
    // Followed before it is read again: an end between the two is then either in the record or sent.
    if (follow) this.follow(jobId, client, requestId);
    const record = await this.access(client, jobId);
    if (isFinished(record.state)) this.unfollow(jobId, client);
    const position = record.state === 'queued' ? await this.position(jobId) : undefined;
    return { ...statusEvent(record, position), id: requestId };
  }

  async queueStatus(client: Client, requestId: string): Promise<DaemonMessageOf<'queue'>> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    const waitingIds = await this.waitingIds();
    const jobs: DaemonMessageOf<'queue'>['jobs'] = [];
    for (const id of await this.store.ownerJobs(client.tokenHash)) {
      const record = await this.store.get(id);
      if (record === undefined || isFinished(record.state)) continue;
      const position = record.state === 'queued' ? Math.max(0, waitingIds.indexOf(id)) : undefined;
      const { jobId, kind, state, completed, count, position: ahead } = statusEvent(record, position);
      jobs.push({ jobId, kind, state, position: ahead, completed, count });
    }
    return {
      v: PROTOCOL_VERSION,
      id: requestId,
      type: 'queue',
      running: (counts.active ?? 0) > 0,
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      jobs,
    };
  }

  async results(client: Client, jobId: string, fromIndex: number, requestId: string): Promise<void> {
    const record = await this.access(client, jobId);
    for (const result of record.results.filter((r) => r.index >= fromIndex)) {
      await client.writable();
      const bytes = await this.store.readResult(record, result);
      client.send({ ...resultEvent(record, result, bytes.length), id: requestId }, bytes);
    }
    const position = record.state === 'queued' ? await this.position(jobId) : undefined;
    client.send({ ...statusEvent(record, position), id: requestId });
  }

  // Styles are folders in one daemon's data folder; a team has no shared place for them yet, so
  // the front door says so instead of answering with an empty library that would look like loss.
  async listStyles(): Promise<StyleInfo[]> {
    throw stylesNotKept('type');
  }

  async saveStyle(): Promise<StyleInfo> {
    throw stylesNotKept('type');
  }

  async deleteStyle(): Promise<StyleInfo[]> {
    throw stylesNotKept('type');
  }

  disconnect(client: Client): void {
    for (const jobId of [...this.followers.keys()]) this.unfollow(jobId, client);
  }

  follows(client: Client): boolean {
    for (const followers of this.followers.values()) if (followers.has(client)) return true;
    return false;
  }

  followerCount(): number {
    let count = 0;
    for (const followers of this.followers.values()) count += followers.size;
    return count;
  }

  /** Stops reading and closes its Redis connections. Jobs go on: workers run them, other front doors serve them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.refresh);
    this.followers.clear();
    for (const waiters of this.endWaiters.values()) for (const wake of waiters) wake();
    this.reader.disconnect();
    await this.reading;
    await this.queue.close().catch(() => undefined);
    this.redis.disconnect();
  }

  /** The events stream, in order, from `after` on, for as long as this front door is open. */
  private async read(after: string): Promise<void> {
    let last = after;
    while (!this.closed) {
      let reply: Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      try {
        reply = (await this.reader.xreadBuffer('COUNT', 200, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.keys.events, last)) as typeof reply;
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          last = id.toString();
          const streamed = decodeStreamEvent(fields);
          if (streamed !== undefined) await this.dispatch(streamed).catch((error: Error) => this.options.onEvent({ type: 'warning', message: `job ${streamed.jobId}: ${error.message}` }));
        }
      }
    }
  }

  private async dispatch({ jobId, event, bytes }: StreamedEvent): Promise<void> {
    const followers = this.followers.get(jobId);
    if (followers !== undefined && followers.size > 0) {
      let attached = bytes;
      if (event.type === 'result') {
        const entry: StoredResult = { index: event.index, prompt: event.prompt, seed: event.seed, width: event.width, height: event.height, bytes: event.attachment.byteLength, ...(event.format === 'svg' && { format: 'svg' as const }) };
        attached = await this.store.readResult({ id: jobId } as JobRecord, entry);
      }
      this.send(followers, event, attached);
    }
    // A job started or ended: those behind it moved up.
    if ((event.type === 'status' && event.state === 'running') || event.type === 'done' || event.type === 'job_error') {
      this.positions.delete(jobId);
      await this.announcePositions();
    }
    if (event.type === 'done' || event.type === 'job_error') {
      this.followers.delete(jobId);
      const local = this.local.get(jobId);
      if (local !== undefined) {
        this.local.delete(jobId);
        const error = event.type === 'job_error' ? { code: event.code, message: event.message, ...(event.field !== undefined && { field: event.field }) } : undefined;
        const state = error === undefined ? 'done' : endState(error);
        this.options.onEvent({ type: 'job', jobId, kind: local.kind, state, count: local.count, completed: event.type === 'done' ? event.count : 0, clientId: local.clientId, error });
      }
      for (const wake of this.endWaiters.get(jobId) ?? []) wake();
      this.endWaiters.delete(jobId);
    }
  }

  /** Tells the followers of queued jobs their new place, as the daemon does when a job starts. */
  private async announcePositions(): Promise<void> {
    const queued = [...this.positions.keys()].filter((id) => this.followers.has(id));
    if (queued.length === 0) return;
    const waiting = await this.waitingIds();
    for (const jobId of queued) {
      const position = waiting.indexOf(jobId);
      if (position < 0 || position === this.positions.get(jobId)) continue;
      this.positions.set(jobId, position);
      const record = await this.store.get(jobId);
      if (record !== undefined && record.state === 'queued') this.send(this.followers.get(jobId)!, statusEvent(record, position));
    }
  }

  private send(followers: Followers, event: JobEvent, bytes?: Uint8Array): void {
    for (const [client, ids] of followers) for (const id of ids) client.send({ ...event, id }, bytes);
  }

  /** The job's record once it has ended: on its end event, or found ended when re-read. */
  private async waitEnded(jobId: string): Promise<JobRecord> {
    for (;;) {
      const ended = new Promise<void>((resolve) => this.endWaiters.set(jobId, [...(this.endWaiters.get(jobId) ?? []), resolve]));
      const record = await this.store.get(jobId);
      if (record === undefined) throw new RequestError('job_not_found', `no job ${jobId}`, 'jobId');
      if (isFinished(record.state) || this.closed) return record;
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, END_RECHECK_MS))]);
    }
  }

  /** Jobs waiting to start, the next one first. */
  private async waitingIds(): Promise<string[]> {
    const jobs = await this.queue.getJobs(['prioritized', 'waiting'], 0, -1, true);
    return jobs.map((job) => job.id ?? '');
  }

  private async position(jobId: string): Promise<number | undefined> {
    const index = (await this.waitingIds()).indexOf(jobId);
    return index < 0 ? 0 : index;
  }

  private async workers(): Promise<WorkerAnnouncement[]> {
    return Object.values(await this.redis.hgetall(this.keys.workers)).map((text) => JSON.parse(text) as WorkerAnnouncement);
  }

  private follow(jobId: string, client: Client, requestId: string): void {
    if (!client.open) return;
    const followers = this.followers.get(jobId) ?? new Map<Client, Set<string>>();
    followers.set(client, (followers.get(client) ?? new Set()).add(requestId));
    this.followers.set(jobId, followers);
  }

  private unfollow(jobId: string, client: Client): void {
    const followers = this.followers.get(jobId);
    followers?.delete(client);
    if (followers?.size === 0) this.followers.delete(jobId);
  }

  private async checkRoom(client: Client): Promise<void> {
    if (this.closed) throw new RequestError('interrupted', 'this front door is stopping and takes no new jobs');
    const { perClient, total } = this.options.limits;
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    const all = Object.values(counts).reduce((a, b) => a + b, 0);
    if (all >= total) throw new RequestError('queue_full', `the team's queue already has ${all} jobs queued or running, its limit; try again when one finishes`);
    const own = (await this.store.ownerJobs(client.tokenHash)).length;
    if (own >= perClient) {
      throw new RequestError(
        'queue_full',
        `this client already has ${own} jobs queued or running, the limit per client (every connection with its pairing token counts, on any front door); try again when one finishes`,
      );
    }
  }

  private async visible(client: Client, jobId: string): Promise<JobRecord | undefined> {
    const record = await this.store.get(jobId);
    return record?.owner.tokenHash === client.tokenHash ? record : undefined;
  }

  /** A job of another token is indistinguishable from no job at all. */
  private async access(client: Client, jobId: string): Promise<JobRecord> {
    const record = await this.visible(client, jobId);
    if (record === undefined) throw new RequestError('job_not_found', `no job ${jobId}`, 'jobId');
    return record;
  }

  private report(record: JobRecord): void {
    const { id: jobId, kind, state, count, error } = record;
    this.options.onEvent({ type: 'job', jobId, kind, state, count, completed: completedImages(record), clientId: record.owner.clientId, error });
  }
}

