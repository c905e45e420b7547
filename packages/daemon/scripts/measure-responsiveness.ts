/**
 * How the daemon answers while a job runs, with the pipeline on its own thread ("in-thread", as
 * before issue #11) and in an engine process ("worker", as `serve` runs it now):
 *   - get_queue and a new connection's hello, sent mid-step of a slow job (the large tiny SD 1
 *     model at 128x128: seconds per U-Net step);
 *   - the wall time of the embedded model's main job, 4 icons, through the daemon (the cost of the
 *     engine process hop), median of 5 after a warm-up job.
 * Both daemons are test/support/serve-engine-fixture.ts (one ONNX Runtime thread, every progress
 * event sent), so only the engine differs.
 *   npx tsx packages/daemon/scripts/measure-responsiveness.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROTOCOL_VERSION } from '@styleset/protocol';
import { tinyModelSet } from '../../../test/support/tiny-model-set';
import { startFixtureDaemon } from '../../../test/support/serve-engine-daemon';
import { endsJob, Wire } from '../../../test/support/wire';
import { defaultModelDir } from '../src/model/default-model';

const root = await mkdtemp(join(tmpdir(), 'styleset-measure-'));
const set = await tinyModelSet({ large: { family: 'sd1', size: 'large' } });

function daemon(kind: string, model: string) {
  return startFixtureDaemon(kind, join(root, `${kind}-data`), join(root, `${kind}-config`), [model]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

async function responsiveness(kind: string): Promise<void> {
  const d = await daemon(kind, `large=${set.models.large.dir}`);
  const stepTimes: number[] = [];
  const queue: number[] = [];
  const hello: number[] = [];
  let lastStep = performance.now();
  const probes: Promise<void>[] = [];
  d.wire.on(({ message }) => {
    if (message.id !== 'job' || message.type !== 'progress' || message.phase !== 'denoising' || message.step === 0) return;
    const now = performance.now();
    if (message.step > 1) stepTimes.push(now - lastStep);
    lastStep = now;
    if (message.step > 2) return;
    probes.push(
      (async () => {
        await sleep(300);
        let t = performance.now();
        const reply = d.wire.next((a) => a.message.id === `q${message.step}`);
        d.wire.send({ v: PROTOCOL_VERSION, id: `q${message.step}`, type: 'get_queue' });
        await reply;
        queue.push(performance.now() - t);
        t = performance.now();
        const { wire } = await Wire.open(d.url, d.token);
        hello.push(performance.now() - t);
        await wire.close();
      })(),
    );
  });
  const end = d.wire.next((a) => endsJob(a, 'job'));
  d.wire.send({ v: PROTOCOL_VERSION, id: 'job', type: 'submit', kind: 'set', prompts: ['a star', 'a moon'], options: { steps: 4, seed: 1, width: 128, height: 128 } });
  await end;
  await Promise.all(probes);
  await d.stop();
  console.log(`${kind}: U-Net step ${fmt(median(stepTimes))}; get_queue mid-step ${queue.map(fmt).join(', ')}; hello (connect + welcome) mid-step ${hello.map(fmt).join(', ')}`);
}

async function mainJob(kind: string): Promise<void> {
  const d = await daemon(kind, `default=${defaultModelDir()}`);
  const times: number[] = [];
  for (let i = 0; i < 6; i++) {
    const id = `icons${i}`;
    const t = performance.now();
    const end = d.wire.next((a) => endsJob(a, id));
    d.wire.send({ v: PROTOCOL_VERSION, id, type: 'submit', kind: 'set', prompts: ['a home icon', 'a search icon', 'a settings icon', 'a user icon'], options: { seed: 1 } });
    const last = await end;
    if (last.message.type !== 'done') throw new Error(JSON.stringify(last.message));
    if (i > 0) times.push(performance.now() - t);
  }
  await d.stop();
  console.log(`${kind}: 4-icon job on the embedded model, submit to done: median ${fmt(median(times))} (${times.map(fmt).join(', ')})`);
}

try {
  for (const kind of ['in-thread', 'worker']) await responsiveness(kind);
  for (const kind of ['in-thread', 'worker', 'in-thread', 'worker']) await mainJob(kind);
} finally {
  await rm(root, { recursive: true, force: true });
  await set.dispose();
}
