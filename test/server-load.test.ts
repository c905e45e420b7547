import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TestDaemon } from '../packages/daemon/test/server/support/harness';
import { LOAD, loadDaemonOptions, runLoad } from '../packages/daemon/test/server/support/load';

/**
 * Load on loopback (support/load.ts): several clients submit many small jobs as fast as the queue
 * lets them, cancel some, and then every accepted job is checked: it ended done or cancelled, and
 * every image it reported is on disk and comes back byte for byte from get_results. Counts and
 * outcomes only: how fast the daemon gets through this load is measured by `npm run bench`
 * (service under load), not asserted here.
 */
let test: TestDaemon;
beforeAll(async () => {
  test = await TestDaemon.start(loadDaemonOptions(LOAD));
});
afterAll(async () => {
  await test.close();
});

// The timeout is a liveness guard, not a speed target: the run takes about 10 s on 2 busy cores.
it('completes or cancels every accepted job and loses no result', { timeout: 300_000 }, async () => {
  const { outcomes, refused, wallMs } = await runLoad(test, LOAD);

  expect(outcomes).toHaveLength(LOAD.clients * LOAD.jobsPerClient);
  expect(new Set(outcomes.map((o) => o.jobId)).size).toBe(outcomes.length);
  const done = outcomes.filter((o) => o.end.message.type === 'done');
  const cancelled = outcomes.filter((o) => o.end.message.type === 'job_error');
  for (const o of cancelled) expect(o.end.message).toMatchObject({ code: 'cancelled' });
  expect(done.length + cancelled.length).toBe(outcomes.length);
  for (const o of done) expect([...o.results.keys()].sort()).toEqual([...Array(o.count).keys()]);

  // Nothing reported is lost: every image a client saw is stored and comes back identical.
  const auditor = await test.client();
  for (const o of outcomes) {
    const { results, status } = await auditor.getResults(o.jobId);
    expect(status.state).toBe(o.end.message.type === 'done' ? 'done' : 'cancelled');
    expect(results.map((r) => r.message.index).sort()).toEqual([...o.results.keys()].sort());
    for (const r of results) expect(Buffer.from(r.bytes!).equals(Buffer.from(o.results.get(r.message.index)!))).toBe(true);
    const record = JSON.parse(await readFile(join(test.dataDir, 'jobs', o.jobId, 'job.json'), 'utf8'));
    expect(record.results).toHaveLength(o.results.size);
  }

  const images = outcomes.reduce((sum, o) => sum + o.results.size, 0);
  console.log(
    `load: ${LOAD.clients} clients, ${outcomes.length} jobs accepted (${done.length} done, ${cancelled.length} cancelled), ` +
      `${refused} submissions refused with queue_full, ${images} images in ${(wallMs / 1000).toFixed(1)} s (timed by npm run bench, not judged here)`,
  );
});
