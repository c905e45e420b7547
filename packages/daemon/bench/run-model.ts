import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import type { ChildReply, ScenarioSpec } from './child';
import { IDLE_SHARE, describe, otherWork, snapshotCpu, waitForIdle } from './measure/contention';
import type { BenchModel } from './models';
import { OPTION_VARIANTS, type ModelPlan } from './plan';
import type { Measured, ModelResults, OptionRun, PlainVsExport, Sharing } from './results';
import { memoryEstimate } from './memory-estimate';
import { requestFromChild } from './run-child';
import type { UnetVariant } from './scenarios/calls';
import type { Batching } from './scenarios/scaling';
import { MAX_BATCH_IMAGES } from '../src/engine/batch-size';

const CHILD = new URL('./child.ts', import.meta.url);

/**
 * How long a scenario waits for other work on the machine to stop before it runs anyway, and how
 * many runs that other work disturbed come before the last one is kept, disturbed or not.
 * `--busy` runs each scenario once at once, on a machine known to be shared: its tables then show
 * the load each process ran under.
 */
const patience = { maxIdleWaitMs: 10 * 60 * 1000, attempts: 3 };

export function runWithoutWaiting(): void {
  patience.maxIdleWaitMs = 0;
  patience.attempts = 1;
}

/**
 * Runs one scenario in a fresh process once the machine is idle, and again if other work started
 * meanwhile; logs what ran, how long it took and what else the machine did.
 */
export async function inChild<K extends ScenarioSpec['kind']>(spec: ScenarioSpec & { kind: K }, what: string): Promise<Measured<K>> {
  const log = (message: string) => console.log(`[${'model' in spec ? spec.model.id : 'service'}] ${what}: ${message}`);
  for (let attempt = 1; ; attempt++) {
    if (patience.maxIdleWaitMs > 0) await waitForIdle(patience.maxIdleWaitMs, log);
    const before = snapshotCpu();
    const started = performance.now();
    const reply = await requestFromChild<ChildReply<K>>(CHILD, spec);
    const other = otherWork(before, snapshotCpu());
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (other.share < IDLE_SHARE || attempt >= patience.attempts) {
      const note = other.share < IDLE_SHARE ? '' : `; NOT IDLE, kept after ${attempt} run(s) (${describe(other)})`;
      log(`${seconds} s, peak RSS ${reply.peakRssMiB.toFixed(0)} MiB${note}`);
      return { ...reply, otherWork: other };
    }
    log(`${seconds} s, discarded: ${describe(other)}`);
  }
}

/**
 * Every scenario on one model, in an order that lets later ones reuse the rewrite the first
 * cold start cached. `work` is this model's scratch folder; `fp16` is the fp16 export compared in
 * the session-option sweep (SD 1.x only), run as exported and from float32 copies.
 */
export async function benchModel(model: BenchModel, plan: ModelPlan, work: string, fp16: BenchModel | undefined): Promise<ModelResults> {
  const sharings: Sharing[] = ['plain', 'shared'];
  const sets: ModelResults['sets'] = { cold: { plain: [], shared: [] }, cacheWarm: { plain: [], shared: [] } };
  const setSpec = (dataDir: string, share: boolean, warmRepeats: number, profileJs: boolean): ScenarioSpec & { kind: 'sets' } => ({
    kind: 'sets',
    model,
    dataDir,
    share,
    targets: plan.targets,
    steps: plan.setSteps,
    warmRepeats,
    profileJs,
  });
  // Plain and shared alternate, so that drift in the machine's state spreads over both.
  for (let i = 0; i < plan.cold.processes; i++) {
    for (const sharing of sharings) {
      const spec = setSpec(join(work, `cold-${sharing}-${i}`), sharing === 'shared', plan.cold.warmRepeats, i === 0);
      sets.cold[sharing].push(await inChild(spec, `${sharing} set, cold start ${i + 1}/${plan.cold.processes}`));
    }
  }
  const cached = join(work, 'cold-shared-0');
  const cacheDir = join(cached, 'model-cache');
  for (let i = 0; i < plan.cold.processes; i++) {
    for (const sharing of sharings) {
      const spec = setSpec(cached, sharing === 'shared', 0, false);
      sets.cacheWarm[sharing].push(await inChild(spec, `${sharing} set, cold start with the rewrite cached ${i + 1}/${plan.cold.processes}`));
    }
  }

  const callSpec = (unet: UnetVariant, on = model, sessionOverrides?: InferenceSession.SessionOptions, keepFloat16?: boolean): ScenarioSpec & { kind: 'calls' } => ({
    kind: 'calls',
    model: on,
    unet,
    cacheDir: on === model ? cacheDir : join(work, on.id, keepFloat16 ? 'kept' : 'copied', 'model-cache'),
    keepFloat16,
    images: plan.targets + 1,
    warmup: plan.calls.warmup,
    repeats: plan.calls.repeats,
    sessionOverrides,
  });
  const calls = {} as ModelResults['calls'];
  for (const unet of ['export', 'plain', 'shared'] as const) calls[unet] = await inChild(callSpec(unet), `U-Net calls, ${unet}`);

  const plainVsExport = plan.plainVsExport && (await benchPlainVsExport(model, plan.plainVsExport, cacheDir));

  const options: OptionRun[] = [];
  for (const variant of plan.options) {
    const { label, overrides } = OPTION_VARIANTS[variant];
    options.push({ label, variant, model, reply: await inChild(callSpec('shared', model, overrides), `session options: ${label}`) });
  }
  if (fp16) {
    for (const keepFloat16 of [true, false]) {
      const label = `${fp16.label}, ${keepFloat16 ? 'run as exported (--keep-float16)' : 'from float32 copies (the default)'}`;
      options.push({ label, model: fp16, reply: await inChild(callSpec('shared', fp16, undefined, keepFloat16), `session options: ${label}`) });
    }
  }

  const opProfile = await inChild(
    { kind: 'op-profile', model, cacheDir, profileDir: join(work, 'ort-profile'), images: plan.targets + 1, repeats: plan.opProfileRepeats },
    'operator profile',
  );

  const scalingSpec = (batching: Batching, sizes: number[]): ScenarioSpec & { kind: 'scaling' } => ({
    kind: 'scaling',
    model,
    dataDir: cached,
    batching,
    chunk: plan.chunk,
    sizes,
    steps: plan.scaling.steps,
    repeats: plan.scaling.repeats,
  });
  const scaling = {
    'one-batch': await inChild(scalingSpec('one-batch', plan.scaling.sizes), 'set size scaling, one batch'),
    // Sizes the default would run in one batch are the one-batch points.
    default: await inChild(scalingSpec('default', plan.scaling.sizes.filter((n) => n + 1 > MAX_BATCH_IMAGES)), 'set size scaling, default batching'),
    chunked: await inChild(scalingSpec('chunked', plan.scaling.sizes.filter((n) => n + 1 > plan.chunk)), `set size scaling, chunks of ${plan.chunk}`),
  };

  const inversion: ModelResults['inversion'] = [];
  for (let i = 0; i < plan.inversion.processes; i++) {
    const { steps, offset } = plan.inversion;
    const spec = { kind: 'inversion', model, dataDir: join(work, `inversion-${i}`), targets: plan.targets, steps, offset } as const;
    inversion.push(await inChild(spec, `inversion once, reuse once ${i + 1}/${plan.inversion.processes}`));
  }

  const daemon = await inChild(
    { kind: 'daemon', model, dataDir: join(work, 'daemon'), targets: plan.targets, steps: plan.setSteps, repeats: plan.daemonRepeats },
    'sets through the daemon',
  );
  // The tiny models' random weights draw noise, which says nothing about icons: the default model only.
  const vector =
    plan.vectorRepeats > 0 && model.id === 'default'
      ? await inChild({ kind: 'vector', model, dataDir: cached, targets: plan.targets, steps: plan.setSteps, repeats: plan.vectorRepeats }, 'vector output')
      : undefined;
  const estimate = await memoryEstimate(model);
  return { model, plan, calls, sets, options, opProfile, scaling, inversion, daemon, ...(vector && { vector }), ...(plainVsExport && { plainVsExport }), memoryEstimate: estimate };
}

/**
 * Plain generation's U-Net call against the export as it is, on the batch of a guided set of
 * `images`: time and peak memory, one process per run so each peak is its own. `cacheDir` must
 * already hold the rewrite, so that the plain processes' peaks do not include rewriting.
 */
export async function benchPlainVsExport(
  model: BenchModel,
  plan: NonNullable<ModelPlan['plainVsExport']>,
  cacheDir: string,
): Promise<PlainVsExport> {
  const spec = (unet: 'export' | 'plain'): ScenarioSpec & { kind: 'calls' } => ({
    kind: 'calls',
    model,
    unet,
    cacheDir,
    images: plan.images,
    warmup: plan.warmup,
    repeats: plan.repeats,
  });
  const result: PlainVsExport = { images: plan.images, export: [], plain: [] };
  for (let i = 0; i < plan.processes; i++) {
    for (const unet of ['export', 'plain'] as const) {
      result[unet].push(await inChild(spec(unet), `plain vs export, ${unet} ${i + 1}/${plan.processes}`));
    }
  }
  return result;
}
