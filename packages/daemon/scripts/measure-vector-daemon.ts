/**
 * What vector output costs a job through the daemon, and whether the daemon still answers while
 * the SVGs are made:
 *   - the embedded model's 4-icon job, submit to done, PNG only against `format: 'both',
 *     background: 'transparent'` (alternating, median of 7 each after a warm-up of each and three
 *     untimed pairs, as the bench has; the first
 *     vector job of an engine process, which loads the tracer's libraries, reported apart); and of
 *     that, the decoding phase (which now removes each image's background) and the time the
 *     engine spent on the SVGs (the job record's `vector.ms`);
 *   - get_queue round trips, one every 20 ms from the last PNG result to the first SVG result
 *     (in 3 more jobs, so that they take no CPU from the timed ones), with the vector stage in the engine process ("worker", as `serve` runs it) and on
 *     the daemon's own thread ("in-thread").
 * The daemons are test/support/serve-engine-fixture.ts (one ONNX Runtime thread).
 *   npx tsx packages/daemon/scripts/measure-vector-daemon.ts
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_VERSION, type DaemonMessage } from '@styleset/protocol';
import { startFixtureDaemon } from '../../../test/support/serve-engine-daemon';
import { endsJob, type Arrival } from '../../../test/support/wire';
import { defaultModelDir } from '../src/model/default-model';

const root = await mkdtemp(join(tmpdir(), 'styleset-measure-vector-'));
const PROMPTS = ['a home icon', 'a search icon', 'a settings icon', 'a user icon'];
const VECTOR = { format: 'both', background: 'transparent' } as const;

function daemon(kind: string) {
  return startFixtureDaemon(kind, join(root, `${kind}-data`), join(root, `${kind}-config`), [`default=${defaultModelDir()}`]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
let jobs = 0;

type D = Awaited<ReturnType<typeof daemon>>;

/** One job: its wall time, and get_queue round trips between its last PNG and its first SVG. */
interface Measured {
  ms: number;
  decodingMs: number;
  /** The engine's time on the SVGs, from the job record. */
  svgMs?: number;
  probes: number[];
  svgGapMs?: number;
}

async function job(d: D, kind: string, options: object, probe = false): Promise<Measured> {
  const id = `job${++jobs}`;
  const probes: number[] = [];
  let pngs = 0;
  let lastPngAt = 0;
  let svgGapMs: number | undefined;
  let probing = false;
  const probeLoop = async () => {
    probing = true;
    for (let k = 0; svgGapMs === undefined; k++) {
      const qid = `${id}-q${k}`;
      const t = performance.now();
      const reply = d.wire.next((a: Arrival) => a.message.id === qid);
      d.wire.send({ v: PROTOCOL_VERSION, id: qid, type: 'get_queue' });
      await reply;
      if (svgGapMs === undefined) probes.push(performance.now() - t);
      // Every 20 ms: often enough to see a stall, without taking the CPU the engine measures with.
      await sleep(20);
    }
  };
  let loop: Promise<void> | undefined;
  const off = d.wire.on(({ message }: { message: DaemonMessage }) => {
    if (message.id !== id || message.type !== 'result') return;
    if (message.format !== 'svg') {
      pngs++;
      lastPngAt = performance.now();
      if (probe && pngs === PROMPTS.length && !probing) loop = probeLoop();
    } else if (svgGapMs === undefined) {
      svgGapMs = performance.now() - lastPngAt;
    }
  });
  const t = performance.now();
  const end = d.wire.next((a: Arrival) => endsJob(a, id));
  d.wire.send({ v: PROTOCOL_VERSION, id, type: 'submit', kind: 'set', prompts: PROMPTS, options: { seed: 3, ...options } });
  const last = await end;
  const ms = performance.now() - t;
  svgGapMs ??= 0;
  await loop;
  off?.();
  if (last.message.type !== 'done') throw new Error(JSON.stringify(last.message));
  const record = JSON.parse(await readFile(join(root, `${kind}-data`, 'jobs', last.message.jobId, 'job.json'), 'utf8')) as { vector?: { ms: number } };
  const decodingMs = last.message.timings.phases.decoding ?? 0;
  return { ms, decodingMs, svgMs: record.vector?.ms, probes, svgGapMs: 'format' in options ? svgGapMs : undefined };
}

try {
  for (const kind of ['worker', 'in-thread']) {
    const d = await daemon(kind);
    await job(d, kind, {});
    const cold = await job(d, kind, VECTOR, true);
    // As the bench does: a daemon serves many jobs, and its lanes' code is optimised over the first few.
    for (let i = 0; i < 3; i++) {
      await job(d, kind, {});
      await job(d, kind, VECTOR);
    }
    const png: Measured[] = [];
    const vector: Measured[] = [];
    for (let i = 0; i < 7; i++) {
      png.push(await job(d, kind, {}));
      vector.push(await job(d, kind, VECTOR));
    }
    const probed = [await job(d, kind, VECTOR, true), await job(d, kind, VECTOR, true), await job(d, kind, VECTOR, true)];
    await d.stop();
    const all = (runs: Measured[], key: 'ms' | 'decodingMs' | 'svgMs' | 'svgGapMs') => runs.map((r) => r[key]!);
    const line = (runs: Measured[], key: 'ms' | 'decodingMs' | 'svgMs' | 'svgGapMs') => `${fmt(median(all(runs, key)))} (${all(runs, key).map(fmt).join(', ')})`;
    const added = median(all(vector, 'ms')) - median(all(png, 'ms'));
    const probes = probed.flatMap((v) => v.probes);
    console.log(`${kind}: 4-icon job, submit to done: PNG ${line(png, 'ms')}; both + transparent ${line(vector, 'ms')}: +${fmt(added)} (+${((100 * added) / median(all(png, 'ms'))).toFixed(1)}%); first vector job of the engine ${fmt(cold.ms)} (SVGs ${fmt(cold.svgMs!)})`);
    console.log(`${kind}: decoding phase: PNG ${line(png, 'decodingMs')}; with backgrounds removed ${line(vector, 'decodingMs')}`);
    const svgShare = median(all(vector, 'svgMs')) / median(all(png, 'ms'));
    console.log(`${kind}: the engine's time on the SVGs ${line(vector, 'svgMs')}: ${(100 * svgShare).toFixed(0)}% of a PNG job; last PNG to first SVG at the client ${line(vector, 'svgGapMs')}`);
    console.log(`${kind}: get_queue from the last PNG to the first SVG: ${probes.length} round trips, median ${fmt(median(probes))}, max ${fmt(Math.max(...probes))}; in the first vector job: max ${fmt(Math.max(...cold.probes, 0))}`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
