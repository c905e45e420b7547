import { TestDaemon } from '../../test/server/support/harness';
import { loadDaemonOptions, runLoad, type LoadShape } from '../../test/server/support/load';

export interface ServiceLoadSpec {
  kind: 'service-load';
  shape: LoadShape;
}

export interface ServiceLoadResult {
  shape: LoadShape;
  /** From the first submit to the last job's end. */
  wallMs: number;
  done: number;
  cancelled: number;
  /** Submissions refused with `queue_full` (then retried). */
  refused: number;
  images: number;
  /** From `accepted` to `done`, per job that finished. */
  latenciesMs: number[];
}

/**
 * The daemon's own overhead under many small jobs (test/server-load.test.ts's load, which checks
 * that nothing is lost): queue, job store, frames, several clients, with the fake engine so
 * that no model time hides it.
 */
export async function runServiceLoad(spec: ServiceLoadSpec): Promise<ServiceLoadResult> {
  const daemon = await TestDaemon.start(loadDaemonOptions(spec.shape));
  try {
    const { outcomes, refused, wallMs } = await runLoad(daemon, spec.shape);
    const done = outcomes.filter((o) => o.end.message.type === 'done');
    return {
      shape: spec.shape,
      wallMs,
      done: done.length,
      cancelled: outcomes.length - done.length,
      refused,
      images: outcomes.reduce((sum, o) => sum + o.results.size, 0),
      latenciesMs: done.map((o) => o.endedAt - o.acceptedAt),
    };
  } finally {
    await daemon.close();
  }
}
