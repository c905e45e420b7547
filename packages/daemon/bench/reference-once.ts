/**
 * The reference once per step (issue 19): StyleAligned sets larger than one batch, their batches
 * in lockstep with the reference's tensors handed on, against the chunking before it (every batch
 * carries the reference) and against plain generation of the same images in the same batches.
 * Generated tiny SDXL-shaped model (`size: 'large'`, as `npm run bench` uses), warm sets through
 * the engine as `styleset generate` runs them, each mode and size in a process of its own (peak
 * RSS is per process):
 *
 *   npx tsx packages/daemon/bench/reference-once.ts [--targets 1,4,16,32] [--batch 2] [--steps 1] [--repeats 2] [--model sdxl-large]
 *
 * Prints the table docs/benchmarks.md shows under "Reference once per step". Wall time and the
 * process's CPU time per set are both reported: on a shared machine CPU time is the work done.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareLockstepUnet, prepareSharedUnet } from '../src/attention';
import { PipelineEngine } from '../src/engine/pipeline-engine';
import { modelCacheDir } from '../src/model/derived-cache';
import { readModelLayout } from '../src/model/layout';
import { observeRuns } from '../src/model/onnx-session';
import { peakRssMiB } from './measure/peak-rss';
import { generateTinyModels, type BenchModel } from './models';
import { answerParent, requestFromChild } from './run-child';
import { CPU, runJob, setJob } from './scenarios/common';

const MODES = ['per-batch', 'lockstep', 'plain', 'one-batch'] as const;
type Mode = (typeof MODES)[number];
const MODE_LABEL: Record<Mode, string> = {
  'per-batch': 'every batch carries the reference (before)',
  lockstep: 'reference once per step',
  plain: 'plain, same batches',
  'one-batch': 'StyleAligned, the whole set in one batch (what sharing itself costs)',
};

interface Request {
  model: BenchModel;
  dataDir: string;
  mode: Mode;
  targets: number;
  batchSize: number;
  steps: number;
  repeats: number;
}

interface Reply {
  batchSize: number;
  setsMs: number[];
  cpuMs: number[];
  /** Wall time inside the U-Net's ONNX Runtime runs (either session), per set. */
  unetMs: number[];
  peakRssMiB: number;
}

async function measure(request: Request): Promise<Reply> {
  const { model, dataDir, mode, targets, batchSize, steps, repeats } = request;
  const engine = new PipelineEngine({ models: [{ id: model.id, dir: model.dir }], defaultModelId: model.id, runtime: CPU, dataDir, lockstep: mode === 'lockstep' });
  const [info] = await engine.listModels();
  const job = setJob(info, targets, { steps, batchSize: mode === 'one-batch' ? targets + 1 : batchSize, shareAttention: mode !== 'plain' });
  // A first set plans ONNX Runtime's memory for the batch shapes (and loads the lockstep session).
  const { outcome } = await runJob(engine, job);
  const setsMs: number[] = [];
  const cpuMs: number[] = [];
  const unetMs: number[] = [];
  let inUnet = 0;
  // The rewritten U-Nets live in the data folder's cache as shared-unet-* and lockstep-unet-*.
  observeRuns((path, ms) => (inUnet += /-unet-[^/]*\/model\.onnx$/.test(path) ? ms : 0));
  for (let i = 0; i < repeats; i++) {
    inUnet = 0;
    const cpu = process.cpuUsage();
    setsMs.push((await runJob(engine, job)).wallMs);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
    unetMs.push(inUnet);
  }
  observeRuns(undefined);
  await engine.close();
  return { batchSize: outcome.batchSize!, setsMs, cpuMs, unetMs, peakRssMiB: peakRssMiB() };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      targets: { type: 'string', default: '1,4,16,32' },
      batch: { type: 'string', default: '2' },
      steps: { type: 'string', default: '1' },
      repeats: { type: 'string', default: '2' },
      model: { type: 'string', default: 'sdxl-large' },
    },
  });
  const sizes = flags.targets!.split(',').map(Number);
  const batchSize = Number(flags.batch);
  const steps = Number(flags.steps);
  const repeats = Number(flags.repeats);
  const work = await mkdtemp(join(tmpdir(), 'styleset-bench-reference-once-'));
  try {
    const model = (await generateTinyModels(join(work, 'models'))).find((m) => m.id === flags.model);
    if (!model) throw new Error(`--model ${flags.model}: not a generated bench model (sd1-large, sdxl-large)`);
    const dataDir = join(work, 'data');
    // Both rewrites cached first, so that no measured process's peak includes rewriting.
    const unet = (await readModelLayout(model.dir)).unet.onnx;
    await prepareSharedUnet(unet, modelCacheDir(dataDir));
    await prepareLockstepUnet(unet, modelCacheDir(dataDir));
    const started = new Date().toISOString();
    const rows: string[] = [];
    for (const targets of sizes) {
      const replies = {} as Record<Mode, Reply>;
      for (const mode of MODES) {
        replies[mode] = await requestFromChild<Reply>(new URL(import.meta.url), { model, dataDir, mode, targets, batchSize, steps, repeats } satisfies Request);
        const list = (xs: number[]) => xs.map((ms) => ms.toFixed(0)).join(', ');
        console.error(`${targets} targets, ${mode}: ${list(replies[mode].setsMs)} ms, CPU ${list(replies[mode].cpuMs)} ms, U-Net ${list(replies[mode].unetMs)} ms`);
      }
      const per = (mode: Mode, of: 'setsMs' | 'cpuMs' | 'unetMs') => median(replies[mode][of]) / targets;
      const calls = (mode: Mode) => (mode === 'one-batch' ? 1 : mode === 'per-batch' ? Math.ceil(targets / (batchSize - 1)) : Math.ceil((targets + 1) / batchSize));
      rows.push(
        `| ${targets} | ${MODES.map(calls).join(' / ')} | ${MODES.map((m) => per(m, 'setsMs').toFixed(0)).join(' / ')} | ` +
          `${MODES.map((m) => per(m, 'cpuMs').toFixed(0)).join(' / ')} | ${MODES.map((m) => per(m, 'unetMs').toFixed(0)).join(' / ')} | ` +
          `${(per('lockstep', 'cpuMs') / per('per-batch', 'cpuMs')).toFixed(2)}x | ${(per('lockstep', 'cpuMs') / per('plain', 'cpuMs')).toFixed(2)}x | ` +
          `${(per('lockstep', 'unetMs') / per('plain', 'unetMs')).toFixed(2)}x | ${(per('one-batch', 'unetMs') / per('plain', 'unetMs')).toFixed(2)}x | ${MODES.map((m) => replies[m].peakRssMiB.toFixed(0)).join(' / ')} |`,
      );
    }
    console.log(`${model.label}, batch size ${batchSize} (images per U-Net batch, reference included), ${steps} step(s), guidance (2 rows per image), median of ${repeats} warm sets; started ${started}.`);
    console.log(`Columns by mode: ${MODES.map((m) => MODE_LABEL[m]).join(' / ')}.\n`);
    console.log('| targets | U-Net calls per step | wall ms per target | CPU ms per target | U-Net ms per target | lockstep / before, CPU | lockstep / plain, CPU | lockstep / plain, U-Net | one batch / plain, U-Net | peak RSS MiB |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const row of rows) console.log(row);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.send) answerParent<Request>(measure);
else await main();
