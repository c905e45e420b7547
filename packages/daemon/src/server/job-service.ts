import {
  PROTOCOL_VERSION,
  type ClientMessageOf,
  type DaemonMessage,
  type DaemonMessageOf,
  type ModelInfo,
  type StyleInfo,
  type SubmitMessage,
} from '@styleset/protocol';
import type { Engine, EngineJob, EngineOutcome } from '../engine/engine';
import type { StyleStore } from '../styles';
import { CancelledError, StylesetError } from '../errors';
import type { DaemonEvent } from './events';
import type { JobApi } from './job-api';
import { completedImages, endEvent, endState, resultEvent, statusEvent, type JobEvent } from './job-messages';
import { JobQueue, type QueueLimits } from './job-queue';
import { runJob } from './job-runner';
import type { JobRecord, JobStore } from './job-store';
import { RequestError, toProtocolError } from './request-error';
import { deleteStyle, listStyles, saveStyle } from './style-requests';
import { prepareJob, queuedRecord } from './submission';

/** One connection, as the service sees it. */
export interface Client {
  /** Names it in the log. */
  readonly id: string;
  /**
   * Hash of the token it paired with: it may see the jobs submitted with the same token, and its
   * jobs count against that token's limit.
   */
  readonly tokenHash: string;
  /** False once closed or closing: nothing sent arrives, and it follows no job. */
  readonly open: boolean;
  /** Sends, or closes the connection when its client has left too much unread (see Connection). */
  send(message: DaemonMessage, bytes?: Uint8Array): void;
  /** Resolves when the client has read enough for a reply to be sent; rejects once it has closed. */
  writable(): Promise<void>;
}

interface LiveJob {
  record: JobRecord;
  input: EngineJob;
  /** What to keep once it is done (a style's new trajectory). */
  afterRun?(outcome: EngineOutcome): Promise<void>;
  controller: AbortController;
  /** Clients following its events, each with the ids of the requests to echo (submit, get_status). */
  subscribers: Map<Client, Set<string>>;
  /** The position its followers were last told. */
  position: number;
  ended: Promise<void>;
  markEnded(): void;
}

export interface JobServiceOptions {
  engine: Engine;
  store: JobStore;
  /** Saved styles, in the same data folder. */
  styles: StyleStore;
  limits: QueueLimits;
  /** See ProgressGate; absent: its default. */
  progressIntervalMs?: number;
  onEvent(event: DaemonEvent): void;
}

/**
 * Jobs from submission to their last event: validation, the queue, the one runner, who follows
 * what, and the requests about a job (status, results, cancel).
 */
export class JobService implements JobApi {
  private readonly live = new Map<string, LiveJob>();
  private readonly queue: JobQueue<LiveJob>;
  private readonly runner: Promise<void>;
  private stopping = false;

  constructor(private readonly options: JobServiceOptions) {
    // Per token, not per connection: another connection, or a client that left and came back,
    // is the same client (its jobs stay queued and count).
    this.queue = new JobQueue(options.limits, (job) => job.record.owner.tokenHash);
    this.runner = this.runQueue();
  }

  get defaultModelId(): string {
    return this.options.engine.defaultModelId;
  }

  listModels(): Promise<ModelInfo[]> {
    return this.options.engine.listModels();
  }

  async getModel(id: string): Promise<ModelInfo> {
    const model = (await this.listModels()).find((m) => m.id === id);
    if (model === undefined) throw new RequestError('model_not_found', `no model ${JSON.stringify(id)}`, 'model');
    return model;
  }

  listStyles(): Promise<StyleInfo[]> {
    return listStyles(this.options.styles);
  }

  saveStyle(client: Client, message: ClientMessageOf<'save_style'>, bytes: Uint8Array | undefined): Promise<StyleInfo> {
    const { engine, styles, store } = this.options;
    return saveStyle(message, bytes, { engine, styles, jobs: store, findJob: (jobId) => this.visible(client, jobId) });
  }

  deleteStyle(name: string): Promise<StyleInfo[]> {
    return deleteStyle(name, this.options.styles);
  }

  /** Answers with `accepted` itself, so that it goes out before the job's first event. */
  async submit(client: Client, message: SubmitMessage, bytes: Uint8Array | undefined): Promise<void> {
    this.checkRoom(client);
    const { input, afterRun } = await prepareJob(message, bytes, {
      engine: this.options.engine,
      findJob: (jobId) => this.visible(client, jobId),
      styles: this.options.styles,
    });
    const record = queuedRecord({ tokenHash: client.tokenHash, clientId: client.id }, message, input);
    // On disk before `accepted`: a daemon that dies now still reports the job as interrupted.
    try {
      await this.options.store.save(record);
    } catch (error) {
      await this.options.store.remove(record).catch(() => undefined);
      throw error;
    }
    try {
      // Again: other submissions may have taken the room while this one was validated and saved.
      this.checkRoom(client);
    } catch (error) {
      await this.options.store.remove(record);
      throw error;
    }
    let markEnded = () => {};
    const ended = new Promise<void>((resolve) => (markEnded = resolve));
    const job: LiveJob = { record, input, afterRun, controller: new AbortController(), subscribers: new Map(), position: 0, ended, markEnded };
    this.follow(job, client, message.id);
    this.live.set(record.id, job);
    job.position = this.queue.add(job);
    client.send({ v: PROTOCOL_VERSION, id: message.id, type: 'accepted', jobId: record.id, position: job.position, count: record.count });
    this.report(record);
  }

  /** Waits until a running job has stopped, so the answer is its final state. */
  async cancel(client: Client, jobId: string, requestId: string): Promise<DaemonMessageOf<'status'>> {
    const record = this.access(client, jobId);
    const job = this.live.get(jobId);
    if (job !== undefined) {
      const reason = new CancelledError(`job ${jobId} was cancelled`);
      if (this.queue.remove(job)) {
        await this.endUnstarted(job, reason);
        this.announcePositions();
      } else {
        job.controller.abort(reason);
      }
      await job.ended;
    }
    return { ...statusEvent(record), id: requestId };
  }

  /** With `follow`, also makes the client a follower of the job's remaining events (after a reconnect). */
  status(client: Client, jobId: string, requestId: string, follow: boolean): DaemonMessageOf<'status'> {
    const record = this.access(client, jobId);
    const job = this.live.get(jobId);
    if (job !== undefined && follow) this.follow(job, client, requestId);
    return { ...statusEvent(record, job?.position), id: requestId };
  }

  /** Whether a job runs and how many wait; of the jobs, only the client's own are named. */
  queueStatus(client: Client, requestId: string): DaemonMessageOf<'queue'> {
    const live = [...this.live.values()];
    const jobs = live
      .filter((job) => job.record.owner.tokenHash === client.tokenHash)
      .map(({ record, position }) => {
        const { jobId, kind, state, completed, count, position: ahead } = statusEvent(record, position);
        return { jobId, kind, state, position: ahead, completed, count };
      });
    return {
      v: PROTOCOL_VERSION,
      id: requestId,
      type: 'queue',
      running: live.some((job) => job.record.state === 'running'),
      waiting: live.filter((job) => job.record.state === 'queued').length,
      jobs,
    };
  }

  /**
   * Sends the stored results of the images from `fromIndex` on, in the order they were announced
   * (PNGs as decoded, then SVGs), then the status that ends the reply. Each result waits until the
   * client has read enough, so a reply of any size holds one at a time.
   */
  async results(client: Client, jobId: string, fromIndex: number, requestId: string): Promise<void> {
    const record = this.access(client, jobId);
    for (const result of record.results.filter((r) => r.index >= fromIndex)) {
      await client.writable();
      const bytes = await this.options.store.readResult(record, result);
      client.send({ ...resultEvent(record, result, bytes.length), id: requestId }, bytes);
    }
    client.send({ ...statusEvent(record, this.live.get(jobId)?.position), id: requestId });
  }

  disconnect(client: Client): void {
    for (const job of this.live.values()) job.subscribers.delete(client);
  }

  /** Whether the client follows a job that has not ended (it is waiting for its events). */
  follows(client: Client): boolean {
    for (const job of this.live.values()) if (job.subscribers.has(client)) return true;
    return false;
  }

  /** How many clients follow each live job, summed: what `disconnect` must bring back down. */
  followerCount(): number {
    let count = 0;
    for (const job of this.live.values()) count += job.subscribers.size;
    return count;
  }

  /** Jobs still queued or running end as `interrupted`; their records say so on disk. */
  async close(): Promise<void> {
    this.stopping = true;
    const reason = new StylesetError('interrupted', 'the daemon stopped before the job finished; it will not resume');
    await Promise.all(this.queue.close().map((job) => this.endUnstarted(job, reason)));
    for (const job of this.live.values()) job.controller.abort(reason);
    await this.runner;
  }

  private async runQueue(): Promise<void> {
    for (let job = await this.queue.next(); job !== undefined; job = await this.queue.next()) {
      const current = job;
      this.announcePositions();
      await runJob(current.record, current.input, current.controller.signal, {
        engine: this.options.engine,
        store: this.options.store,
        emit: (event, bytes) => this.emit(current, event, bytes),
        changed: () => this.report(current.record),
        progressIntervalMs: this.options.progressIntervalMs,
        afterRun: current.afterRun,
        warn: (message) => this.options.onEvent({ type: 'warning', message }),
      });
      this.queue.finish();
      this.retire(current);
    }
  }

  private async endUnstarted(job: LiveJob, reason: StylesetError): Promise<void> {
    const { record } = job;
    record.error = toProtocolError(reason);
    record.state = endState(record.error);
    record.timings.finishedAt = Date.now();
    try {
      await this.options.store.save(record);
    } catch (error) {
      this.options.onEvent({ type: 'warning', message: `job ${record.id}: ${(error as Error).message}` });
    }
    this.report(record);
    this.emit(job, endEvent(record));
    this.retire(job);
  }

  private retire(job: LiveJob): void {
    this.live.delete(job.record.id);
    // Its followers were told its end; a connection that closes later must not stay reachable
    // from it (the runner keeps the last job until the next one starts).
    job.subscribers.clear();
    job.markEnded();
  }

  private announcePositions(): void {
    for (const [job, position] of this.queue.positions()) {
      if (job.position === position) continue;
      job.position = position;
      this.emit(job, statusEvent(job.record, position));
    }
  }

  private emit(job: LiveJob, event: JobEvent, bytes?: Uint8Array): void {
    for (const [client, ids] of job.subscribers) {
      for (const id of ids) client.send({ ...event, id }, bytes);
    }
  }

  /** A client that closed while its request was handled follows nothing: it would never be told. */
  private follow(job: LiveJob, client: Client, requestId: string): void {
    if (client.open) job.subscribers.set(client, (job.subscribers.get(client) ?? new Set()).add(requestId));
  }

  private checkRoom(client: Client): void {
    if (this.stopping) throw new RequestError('interrupted', 'the daemon is stopping and takes no new jobs');
    this.queue.checkRoom(client.tokenHash);
  }

  private visible(client: Client, jobId: string): JobRecord | undefined {
    const record = this.options.store.get(jobId);
    return record?.owner.tokenHash === client.tokenHash ? record : undefined;
  }

  /** A job of another token is indistinguishable from no job at all. */
  private access(client: Client, jobId: string): JobRecord {
    const record = this.visible(client, jobId);
    if (record === undefined) throw new RequestError('job_not_found', `no job ${jobId}`, 'jobId');
    return record;
  }

  private report(record: JobRecord): void {
    const { id: jobId, kind, state, count, error } = record;
    this.options.onEvent({ type: 'job', jobId, kind, state, count, completed: completedImages(record), clientId: record.owner.clientId, error });
  }
}
