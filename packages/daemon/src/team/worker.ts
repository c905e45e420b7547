import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import type { Engine } from '../engine/engine';
import { CancelledError } from '../errors';
import type { JobEvent } from '../server/job-messages';
import { runJob } from '../server/job-runner';
import { isFinished, type JobRecord } from '../server/job-store';
import { fromQueuedJob, type QueuedJob } from './job-data';
import { TeamKeys } from './keys';
import type { QueueAddress } from './queue-url';
import { bullConnection, connectRedis, queueLibraries } from './redis-connection';
import { RedisJobStore, type TeamRetention } from './redis-job-store';
import { routeJob, type WorkerAnnouncement } from './routing';
import { encodeStreamEvent, EVENTS_MAX_LENGTH } from './stream-events';

export interface TeamWorkerOptions {
  address: QueueAddress;
  engine: Engine;
  keys?: TeamKeys;
  retention: TeamRetention;
  /** BullMQ's job lock: a worker silent this long (killed, cut off) loses its job to the stalled check. Default 30 s. */
  lockMs?: number;
  /** See ProgressGate; absent: its default. */
  progressIntervalMs?: number;
  log(event: TeamWorkerEvent): void;
}

export type TeamWorkerEvent =
  | { type: 'job'; jobId: string; state: string; model: string; attempt: number; error?: { code: string; message: string } }
  | { type: 'passed'; jobId: string; model: string; why: string }
  | { type: 'warning'; message: string };

export interface TeamWorker {
  readonly id: string;
  close(): Promise<void>;
}

/** How often a running job's cancel flag is read, and the worker announces itself. */
const CANCEL_POLL_MS = 250;
const ANNOUNCE_MS = 5_000;
/** An announcement this old is deleted (stale ones are ignored long before: WORKER_STALE_MS). */
const FORGET_WORKER_MS = 60 * 60 * 1000;
/** A job handed back (routing) is due again after this. */
const PASS_DELAY_MS = 200;

/**
 * A team worker: takes jobs from the team's BullMQ queue one at a time and runs them on its
 * engine with the daemon's own job runner, so a job is stored (in Redis) before each event goes
 * out, exactly as in the single daemon. A job whose worker dies (SIGKILL, power, network) is
 * found by BullMQ's stalled check once its lock lapses and run again by any worker, once
 * (maxStalledCount 1); a second loss ends it `interrupted`.
 */
export async function startTeamWorker(options: TeamWorkerOptions): Promise<TeamWorker> {
  const { address, engine, log } = options;
  const keys = options.keys ?? new TeamKeys();
  const warn = (message: string) => log({ type: 'warning', message });
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { bullmq, Redis } = await queueLibraries();
  const redis = connectRedis(Redis, address, `styleset-worker-${id}`, warn);
  const store = new RedisJobStore(redis, keys, true);
  let busy = false;
  const announce = async () => {
    const self: WorkerAnnouncement = { id, models: await engine.listModels(), defaultModel: engine.defaultModelId, busy, at: Date.now() };
    await redis.hset(keys.workers, id, JSON.stringify(self));
    return self;
  };
  const others = async (): Promise<WorkerAnnouncement[]> => {
    const all = Object.values(await redis.hgetall(keys.workers)).map((text) => JSON.parse(text) as WorkerAnnouncement);
    // Workers that died without a word (SIGKILL) leave their last announcement; long gone, it goes.
    const gone = all.filter((w) => Date.now() - w.at > FORGET_WORKER_MS).map((w) => w.id);
    if (gone.length > 0) await redis.hdel(keys.workers, ...gone);
    return all.filter((w) => !gone.includes(w.id));
  };
  const emit = (event: JobEvent, bytes?: Uint8Array) => {
    redis.xadd(keys.events, 'MAXLEN', '~', String(EVENTS_MAX_LENGTH), '*', ...encodeStreamEvent(event, bytes)).catch((error: Error) => warn(`job ${event.jobId}: an event was not sent: ${error.message}`));
  };
  /** Ends a job that will not run (again) with this error, as the runner would have. */
  const endWith = async (record: JobRecord, error: { code: 'interrupted' | 'model_not_found' | 'internal'; message: string }) => {
    record.error = error;
    record.state = error.code === 'interrupted' ? 'interrupted' : 'error';
    record.timings.finishedAt = Date.now();
    if (!(await store.end(record))) return;
    log({ type: 'job', jobId: record.id, state: record.state, model: record.options.model, attempt: 0, error });
  };

  const processJob = async (job: Job<QueuedJob>, token?: string): Promise<void> => {
    const data = job.data;
    const self = await announce();
    const route = routeJob(data.model, self, await others(), data.passes, Date.now());
    const record = await store.get(data.jobId);
    if (record === undefined || isFinished(record.state)) return; // cancelled while queued, or pruned
    if (route === 'refuse') {
      await endWith(record, { code: 'model_not_found', message: `no worker of this team offers model ${JSON.stringify(data.model)} any more` });
      return;
    }
    if (route === 'pass') {
      log({ type: 'passed', jobId: data.jobId, model: data.model, why: self.models.some((m) => m.id === data.model) ? 'another worker has it loaded' : 'this worker does not have it' });
      await job.updateData({ ...data, passes: data.passes + 1 });
      await job.moveToDelayed(Date.now() + PASS_DELAY_MS, token);
      throw new bullmq.DelayedError();
    }
    // A record left `running` is a retry: a worker died with it. What that attempt stored (and
    // so announced) stays, and is neither written nor announced again (see RedisJobStore).
    const attempt = record.state === 'running' ? 2 : 1;
    const controller = new AbortController();
    const stop = () => {
      redis.exists(keys.cancel(record.id)).then(
        (set) => {
          if (set === 1) controller.abort(new CancelledError(`job ${record.id} was cancelled`));
        },
        () => undefined,
      );
    };
    stop();
    const polling = setInterval(stop, CANCEL_POLL_MS);
    busy = true;
    void announce().catch(() => undefined);
    log({ type: 'job', jobId: record.id, state: 'running', model: data.model, attempt });
    try {
      await runJob(record, fromQueuedJob(data), controller.signal, {
        engine,
        store,
        // Results and the end went on the stream in the store's transactions, with what they announce.
        emit: (event, bytes) => {
          if (event.type === 'result' || ((event.type === 'done' || event.type === 'job_error') && store.takeAnnouncedEnd(event.jobId))) return;
          emit(event, bytes);
        },
        changed: () => undefined,
        progressIntervalMs: options.progressIntervalMs,
      });
      log({ type: 'job', jobId: record.id, state: record.state, model: data.model, attempt, error: record.error });
    } finally {
      clearInterval(polling);
      busy = false;
      void announce().catch(() => undefined);
    }
    const pruned = await store.prune(options.retention, Date.now()).catch((error: Error) => (warn(`retention: ${error.message}`), []));
    if (pruned.length > 0) warn(`retention deleted ${pruned.length} finished job(s)`);
  };

  const lockDuration = options.lockMs ?? 30_000;
  const worker = new bullmq.Worker<QueuedJob>(keys.queue, processJob, {
    connection: bullConnection(address),
    concurrency: 1,
    lockDuration,
    stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
    maxStalledCount: 1,
    autorun: false,
  });
  worker.on('error', (error) => warn(`queue: ${error.message}`));
  worker.on('stalled', (jobId) => warn(`job ${jobId}: its worker stopped answering; it runs again on the next free worker`));
  // A job that stalled a second time, or whose processing failed outside the runner (Redis lost
  // mid-write): it ends `interrupted`, once, by the worker whose check found it.
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    void store
      .get(job.data.jobId)
      .then((record) => {
        if (record === undefined || isFinished(record.state)) return;
        return endWith(record, { code: 'interrupted', message: `the job's worker stopped (${error.message}); it was not retried again and will not resume` });
      })
      .catch((e: Error) => warn(`job ${job.data.jobId}: ${e.message}`));
  });
  await announce();
  const heartbeat = setInterval(() => void announce().catch(() => undefined), ANNOUNCE_MS);
  void worker.run().catch((error: Error) => warn(`queue: ${error.message}`));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    id,
    close: () =>
      (closing ??= (async () => {
        clearInterval(heartbeat);
        // Lets the running job finish first (BullMQ's close waits for it).
        await worker.close();
        await redis.hdel(keys.workers, id).catch(() => undefined);
        redis.disconnect();
      })()),
  };
}
