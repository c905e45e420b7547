import { StylesetError } from '../errors';
import type { ResultWriter } from '../server/job-runner';
import { isFinished, JobStore, parseJobRecord, resultFile, type JobRecord, type StoredResult } from '../server/job-store';
import { RequestError } from '../server/request-error';
import type { Redis } from 'ioredis';
import { endEvent, resultEvent } from '../server/job-messages';
import type { TeamKeys } from './keys';
import { encodeStreamEvent, EVENTS_MAX_LENGTH } from './stream-events';

export interface TeamRetention {
  /** Finished jobs are deleted this many days after they ended; 0 keeps them (up to `maxBytes`). */
  keepJobsDays: number;
  /** Finished jobs' stored results, in all, are kept under this; the oldest go first. */
  maxBytes: number;
}

/** KEYS: record, events, owner set, finished, sizes. ARGV: record JSON, stream max length, end time, id, bytes, the event's fields. */
const END_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local state = cjson.decode(current).state
  if state ~= 'queued' and state ~= 'running' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 6))
redis.call('SREM', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
redis.call('HSET', KEYS[5], ARGV[4], ARGV[5])
return 1
`;

/**
 * Job records and results in the team's Redis, where every front door reads them. The same
 * promise as the data folder's JobStore: a result's bytes and the record that lists them are
 * written together (one MULTI) before the result is announced. A result already listed (stored by
 * an attempt a killed worker did not finish) is kept as it was, never written again, so what a
 * client was sent is what it fetches later.
 */
export class RedisJobStore implements ResultWriter {
  private readonly ended = new Set<string>();
  /**
   * @param announceResults a worker's store: each new result's event goes on the events stream in
   *   the same transaction as its bytes and record, so that a worker killed at any point has
   *   either stored and announced a result or neither (its retry then makes it); and a finished
   *   record is saved as `end`, with its end event.
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: TeamKeys,
    private readonly announceResults = false,
  ) {}

  newId(): string {
    return JobStore.newId();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.get(this.keys.record(id));
    return text === null ? undefined : parseJobRecord(JSON.parse(text));
  }

  /** A worker's store ends a finished job as `end` does: the runner's last save is its end. */
  async save(record: JobRecord): Promise<void> {
    if (this.announceResults && isFinished(record.state)) {
      await this.end(record);
      return;
    }
    await this.redis.set(this.keys.record(record.id), JSON.stringify(record));
  }

  /** Whether `end` announced this job's end (the runner's own end event is then not sent again); asks once. */
  takeAnnouncedEnd(id: string): boolean {
    return this.ended.delete(id);
  }

  /**
   * A finished job's last record and its end event (`done` or `job_error`), in one step, only if
   * the stored record has not ended already: a job ends exactly once, whoever ends it (a worker, a
   * second attempt, a front door's cancel, the stalled check) and whenever they die. Its token no
   * longer counts it, and it joins the retention's list. False when it had ended already.
   */
  async end(record: JobRecord): Promise<boolean> {
    const bytes = record.results.reduce((sum, r) => sum + (r.bytes ?? 0), 0);
    const keys = [this.keys.record(record.id), this.keys.events, this.keys.owner(record.owner.tokenHash), this.keys.finished, this.keys.sizes];
    const args = [JSON.stringify(record), String(EVENTS_MAX_LENGTH), String(record.timings.finishedAt ?? Date.now()), record.id, String(bytes), ...encodeStreamEvent(endEvent(record))];
    const ended = (await this.redis.eval(END_SCRIPT, keys.length, ...keys, ...args)) === 1;
    if (ended) this.ended.add(record.id);
    return ended;
  }

  /** For a job that was never accepted after all. */
  async remove(record: JobRecord): Promise<void> {
    await this.redis.multi().del(this.keys.record(record.id)).srem(this.keys.owner(record.owner.tokenHash), record.id).exec();
  }

  /** Saves a newly accepted job and counts it against its token. */
  async add(record: JobRecord): Promise<void> {
    await this.redis.multi().set(this.keys.record(record.id), JSON.stringify(record)).sadd(this.keys.owner(record.owner.tokenHash), record.id).exec();
  }

  async writeResult(record: JobRecord, result: Parameters<JobStore['writeResult']>[1]): Promise<StoredResult> {
    const { index, prompt, seed, width, height, warning } = result;
    const [stored] = await this.writeResults(record, [{ entry: { index, prompt, seed, width, height, ...(warning !== undefined && { warning }) }, bytes: result.png }]);
    return stored;
  }

  async writeResults(record: JobRecord, results: ReadonlyArray<{ entry: Omit<StoredResult, 'bytes'>; bytes: Uint8Array }>, update?: (record: JobRecord) => void): Promise<StoredResult[]> {
    const listed = (r: Pick<StoredResult, 'index' | 'format'>) => record.results.find((s) => s.index === r.index && s.format === r.format);
    const multi = this.redis.multi();
    const entries: StoredResult[] = [];
    const kept = new Set<StoredResult>();
    for (const { entry, bytes } of results) {
      const stored = listed(entry);
      if (stored !== undefined) {
        entries.push(stored);
        kept.add(stored);
        continue;
      }
      multi.set(this.keys.result(record.id, resultFile(entry)), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      const added = { ...entry, bytes: bytes.length };
      record.results.push(added);
      entries.push(added);
    }
    update?.(record);
    multi.set(this.keys.record(record.id), JSON.stringify(record));
    if (this.announceResults) {
      for (const entry of entries.filter((e) => !kept.has(e))) multi.xadd(this.keys.events, 'MAXLEN', '~', String(EVENTS_MAX_LENGTH), '*', ...encodeStreamEvent(resultEvent(record, entry, entry.bytes!)));
    }
    await this.exec(multi, record.id);
    return entries;
  }

  /** A stored result exactly as stored; one that is gone (the retention) is `job_not_found`. */
  async readResult(record: JobRecord, result: StoredResult): Promise<Uint8Array> {
    const bytes = await this.redis.getBuffer(this.keys.result(record.id, resultFile(result)));
    if (bytes === null) throw new RequestError('job_not_found', `job ${record.id} is no longer stored (deleted by the retention while it was read)`, 'jobId');
    if (result.bytes !== undefined && bytes.length !== result.bytes) {
      throw new StylesetError('internal', `job ${record.id}: ${resultFile(result)} is ${bytes.length} bytes in redis, not the ${result.bytes} it was stored with`);
    }
    return new Uint8Array(bytes);
  }

  private async exec(multi: ReturnType<Redis['multi']>, id: string): Promise<void> {
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (replies === null || failed != null) throw new StylesetError('internal', `job ${id}: redis did not store it (${failed?.message ?? 'transaction aborted'})`);
  }

  /** Live job ids of a token. */
  ownerJobs(tokenHash: string): Promise<string[]> {
    return this.redis.smembers(this.keys.owner(tokenHash));
  }

  /**
   * Deletes finished jobs that ended before the cutoff, then the oldest until the rest fit in
   * `maxBytes`. Returns the ids deleted.
   */
  async prune({ keepJobsDays, maxBytes }: TeamRetention, now: number): Promise<string[]> {
    const ended = await this.redis.zrange(this.keys.finished, 0, -1, 'WITHSCORES');
    const ids: string[] = [];
    const times: number[] = [];
    for (let i = 0; i + 1 < ended.length; i += 2) {
      ids.push(ended[i]);
      times.push(Number(ended[i + 1]));
    }
    if (ids.length === 0) return [];
    const sizes = (await this.redis.hmget(this.keys.sizes, ...ids)).map((s) => Number(s ?? 0));
    let total = sizes.reduce((a, b) => a + b, 0);
    const cutoff = keepJobsDays > 0 ? now - keepJobsDays * 86_400_000 : -Infinity;
    const doomed: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (times[i] >= cutoff && total <= maxBytes) break;
      doomed.push(ids[i]);
      total -= sizes[i];
    }
    for (const id of doomed) {
      const record = await this.get(id).catch(() => undefined);
      const files = (record?.results ?? []).map((r) => this.keys.result(id, resultFile(r)));
      await this.redis
        .multi()
        .del(this.keys.record(id), this.keys.cancel(id), ...files)
        .zrem(this.keys.finished, id)
        .hdel(this.keys.sizes, id)
        .exec();
    }
    return doomed;
  }
}
