import type { Phase } from '@styleset/protocol';
import { InputError } from '../errors';
import { concatBatch, elementCount, sliceBatch, type Feed, type FloatTensor } from '../model/tensor';
import type { SamplerKind } from '../scheduler/config';
import { createSampler } from '../scheduler/create-sampler';
import { GaussianSource } from '../scheduler/noise';
import { denoise, DenoisingBatch, type DenoiseInput } from './denoise';
import { stepBoundary } from './step-boundary';
import { usesClassifierFreeGuidance, type UnetRunner } from './unet';
import type { Trajectory } from './invert';
import type { Pipeline } from './pipeline';
import { pickRows, type TextConditioning } from './text-conditioning';
import { decodeLatents } from './vae';

export interface ProgressEvent {
  phase: Phase;
  step: number;
  total: number;
  /** Denoising, when previews were asked for: the current batch's estimate of its clean latents. */
  previewLatents?: FloatTensor;
}

export interface RunControl {
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

/** Shared-attention controls for one U-Net batch, given its layout. */
export type SharingFeeds = (layout: { images: number; guided: boolean }) => Record<string, Feed>;

/**
 * A set larger than one batch with its reference computed once per step: the lockstep U-Net
 * (attention/lockstep-graph.ts), the inputs of the batch that holds the reference, the outputs it
 * hands on, and the inputs of a batch of targets only that reads them.
 */
export interface LockstepSharing {
  unet(): Promise<UnetRunner>;
  referenceFeeds: SharingFeeds;
  handedOn: readonly string[];
  targetFeeds(layout: { images: number; guided: boolean }, handedOn: Readonly<Record<string, FloatTensor>>): Record<string, Feed>;
}

/** The rewritten U-Net's controls for a set, and whether they share (otherwise plain generation). */
export interface SetSharing {
  active: boolean;
  /** Every image attends to every image of its batch (then no batch is padded with filler rows). */
  fullAttentionShare?: boolean;
  feeds: SharingFeeds;
  /** Where a set that needs several batches can run them in lockstep (see `planLockstep`). */
  lockstep?: LockstepSharing;
}

export interface GenerateOptions {
  /** One image each. Without a reference (`reference`, `referencePrompt`), prompt 0 is the set's reference when sharing. */
  prompts: string[];
  negativePrompt: string;
  steps: number;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  sampler: SamplerKind;
  /** Images per U-Net batch at most, the reference slot included when sharing (see `chunkSizeFor`). */
  batchSize: number;
  /**
   * Images per U-Net batch exactly, when the batch layout must be another run's (a saved style
   * keeps its set's): see `planBatches`. Default: `chunkSizeFor` this set and `batchSize`.
   */
  chunkSize?: number;
  /**
   * The image index of prompt 0 in its set (default 0): prompt i is image firstIndex + i, with that
   * image's seed and place in the set's batches. A saved style's new images continue its set so.
   */
  firstIndex?: number;
  /** Attach the batch's estimated clean latents to the progress every this many steps. */
  previewEvery?: number;
  /** Starting latents, one row per prompt: [n, C, h, w] (before the sampler's noise scaling). */
  initLatents?: FloatTensor;
  /** Shared-attention controls; absent when the U-Net is the unmodified export. */
  sharing?: SetSharing;
  /**
   * A reference image's inverted trajectory: slot 0 (of every batch, in lockstep of the first) is
   * the reference, described by `prompt`, started from trajectory entry `offset` and pinned to the
   * trajectory after each step. It is not one of the outputs.
   */
  reference?: { prompt: string; trajectory: Trajectory; offset: number };
  /**
   * A text reference (a saved style's): slot 0 of every batch is generated from this prompt with
   * the seed of image 0, as the first image of the set the style came from was. Not an output;
   * the prompts are images 1 and on (`firstIndex` at least 1).
   */
  referencePrompt?: string;
}

export interface GeneratedImage {
  /** Index into `GenerateOptions.prompts`. */
  index: number;
  prompt: string;
  seed: number;
  /** [1, 3, H, W] in [-1, 1]. */
  pixels: FloatTensor;
  /** Final denoised latents [1, C, h, w], before division by the VAE scaling factor. */
  latents: FloatTensor;
}

/** Image i is seeded with seed + i, so any image can be remade alone from its reported seed. */
export function imageSeed(seed: number, index: number): number {
  return (seed + index) >>> 0;
}

/** A row of a batch that holds no image of the set: it repeats the batch's first row, and its output is thrown away. */
export const FILLER = -1;

/**
 * The images per batch a set of `count` slots runs with when at most `batchSize` fit: the fewest
 * batches that hold the set, as full as each other (a small last batch would cost more per image).
 * With a reference each batch carries it as well (in lockstep, `planLockstep`, only the first
 * does, and the others hold that many images more, or filler rows).
 */
export function chunkSizeFor(count: number, batchSize: number, withReference: boolean): number {
  const minimum = withReference ? 2 : 1;
  if (!Number.isInteger(batchSize) || batchSize < minimum) {
    throw new InputError(`batch size must be an integer of at least ${minimum}${withReference ? ' (the reference and one image)' : ''}, got ${batchSize}`);
  }
  const first = withReference ? 1 : 0;
  const slots = count - first;
  if (slots <= 0) return count;
  const per = batchSize - first;
  const batches = Math.ceil(slots / per);
  return first + Math.ceil(slots / batches);
}

/**
 * The U-Net batches of a set's slots, each a list of rows by slot (FILLER for a row that holds
 * none). With a reference, slot 0 leads every batch and slot s > 0 runs in batch ⌊(s−1)/(B−1)⌋ at
 * row (s−1) mod (B−1) + 1; without one, slot s runs in batch ⌊s/B⌋ at row s mod B. With `pad`
 * every batch has exactly B rows. So where an image runs, and in what shape of batch, follows
 * from its own index and B alone, not from the rest of its set: ONNX Runtime may round another
 * batch shape, or another row of it, differently in the last bits, and a style that extends a
 * set must give each new image exactly what it would have been in that set. (Rows never mix
 * otherwise: each image attends to itself and the reference only.) Without `pad` (full attention
 * share, where every image attends to every row of its batch, so no image is independent of its
 * batch anyway) a batch holds only its images.
 */
export function planBatches(slots: readonly number[], size: number, withReference: boolean, pad: boolean): number[][] {
  const first = withReference ? 1 : 0;
  // A set of the reference alone.
  if (withReference && slots.length > 0 && slots.every((slot) => slot === 0)) return [[0]];
  if (!Number.isInteger(size) || size < first + 1) {
    throw new InputError(`batch size must be an integer of at least ${first + 1}${withReference ? ' (the reference and one image)' : ''}, got ${size}`);
  }
  const per = size - first;
  const batches = new Map<number, number[]>();
  for (const slot of [...slots].sort((a, b) => a - b)) {
    if (slot < first) continue;
    const batch = Math.floor((slot - first) / per);
    const rows = batches.get(batch) ?? Array.from({ length: size }, (_, row) => (row < first ? 0 : FILLER));
    rows[first + ((slot - first) % per)] = slot;
    batches.set(batch, rows);
  }
  return [...batches.keys()]
    .sort((a, b) => a - b)
    .map((batch) => {
      const rows = batches.get(batch)!;
      return pad ? rows : rows.filter((slot) => slot !== FILLER);
    });
}

/** The batches of a whole set of `count` slots (0 .. count − 1), as `generateSet` runs them. */
export function planChunks(count: number, batchSize: number, withReference: boolean): number[][] {
  const size = chunkSizeFor(count, batchSize, withReference);
  return planBatches(range(0, count), size, withReference, true);
}

/**
 * The batches of a shared set whose reference (slot 0) runs once per step (`LockstepSharing`):
 * slot s in batch ⌊s/B⌋ at row s mod B, every batch B rows (a filler row repeats the batch's
 * first image). Batch 0 holds the reference and hands its tensors on; the others hold targets
 * only. As in `planBatches`, where an image runs follows from its index and B alone.
 */
export function planLockstep(slots: readonly number[], size: number): number[][] {
  if (!Number.isInteger(size) || size < 2) throw new InputError(`batch size must be an integer of at least 2 (the reference and one image), got ${size}`);
  const batches = new Map<number, number[]>([[0, new Array<number>(size).fill(FILLER)]]);
  batches.get(0)![0] = 0;
  for (const slot of slots) {
    const batch = Math.floor(slot / size);
    const rows = batches.get(batch) ?? new Array<number>(size).fill(FILLER);
    rows[slot % size] = slot;
    batches.set(batch, rows);
  }
  return [...batches.keys()].sort((a, b) => a - b).map((batch) => batches.get(batch)!);
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

/**
 * Generates a set, yielding each image as soon as it is decoded. Internally the set is a list of
 * slots, one per image of the set, laid out in batches by `planBatches`: with a reference image,
 * slot 0 is that reference and slot i + 1 is image i; otherwise slot i is image i (with a text
 * reference, slot 0 is that reference and the prompts are images `firstIndex` on). A shared set
 * with an image beyond the first batch runs its batches in lockstep (`LockstepSharing`): every
 * step runs batch 0, which holds the reference and hands its tensors on, then each batch of
 * targets, so the reference is computed once per step and all the batches' latents are decoded
 * at the end. Otherwise (full attention share, plain sets, a U-Net without the lockstep variant)
 * every batch carries the reference slot, recomputed identically since sharing leaves a
 * reference unchanged, and is decoded as it finishes. A reference slot is reported at most once.
 * Each prompt is encoded on its own and each image decoded on its own, so that no image's numbers
 * depend on which other images share its set.
 */
export async function* generateSet(pipeline: Pipeline, options: GenerateOptions, control: RunControl = {}): AsyncGenerator<GeneratedImage> {
  const { layout } = pipeline.model;
  const { reference, referencePrompt } = options;
  const firstIndex = options.firstIndex ?? 0;
  if (reference && referencePrompt !== undefined) throw new InputError('a set takes a reference image or a reference prompt, not both');
  if (!Number.isInteger(firstIndex) || firstIndex < (referencePrompt !== undefined ? 1 : 0) || (!reference && referencePrompt === undefined && firstIndex !== 0)) {
    throw new InputError(`the first image's index must be ${referencePrompt !== undefined ? 'at least 1 (image 0 is the reference)' : reference ? 'at least 0' : '0: the first prompt is the reference'}, got ${firstIndex}`);
  }
  // Slot s is image s of the set, or with a reference image (in slot 0) image s - 1.
  const slotOffset = reference ? 1 : 0;
  const seedOf = (slot: number) => imageSeed(options.seed, slot - slotOffset);
  const output = new Map<number, number>(options.prompts.map((_, i) => [firstIndex + i + slotOffset, i]));
  const prompts = new Map<number, string>(options.prompts.map((prompt, i) => [firstIndex + i + slotOffset, prompt]));
  const externalReference = reference?.prompt ?? referencePrompt;
  if (externalReference !== undefined) prompts.set(0, externalReference);
  const slots = [...prompts.keys()].sort((a, b) => a - b);

  const latentShape = pipeline.latentShape(options.width, options.height);
  const perImage = elementCount(latentShape);
  if (options.initLatents) checkLatents(options.initLatents, [options.prompts.length, ...latentShape], 'initial latents');
  if (reference) checkReference(reference, options.steps, latentShape);

  control.onProgress?.({ phase: 'encoding', step: 0, total: 1 });
  const { conditioning: cond, rowOf } = await encodeEach(pipeline, slots.map((slot) => prompts.get(slot)!));
  const uncond = usesClassifierFreeGuidance(pipeline.unet, options.guidance) ? await pipeline.conditioner.encode([options.negativePrompt]) : undefined;
  control.onProgress?.({ phase: 'encoding', step: 1, total: 1 });

  // A set of one is its own reference, and sharing with itself is what plain generation gives
  // (up to AdaIN's rounding): it runs plainly, in one batch of one.
  const sharing = externalReference === undefined && slots.length === 1 && options.sharing?.active ? pipeline.sharing(null) : options.sharing;
  const withReference = sharing?.active === true || externalReference !== undefined;
  const size = setChunkSize(options);
  // Full attention share has every image attend to every row of its batch: no filler rows there.
  const chunks = planBatches(slots, size, withReference, !(sharing?.active === true && sharing.fullAttentionShare === true));
  // A shared set with an image beyond batch 0 runs its batches in lockstep, the reference's once
  // per step, where the U-Net has the lockstep variant (not for full attention share). Where every
  // slot is below B the set is one batch, laid out as planLockstep's batch 0: row s either way.
  const spills = slots.some((slot) => slot >= size);
  const lockstepPlan = sharing?.active === true && sharing.lockstep !== undefined && !sharing.fullAttentionShare && spills ? planLockstep(slots, size) : undefined;
  const lockstep = lockstepPlan ? sharing!.lockstep : undefined;
  const batches = lockstepPlan ?? chunks;
  const totalSteps = batches.length * options.steps;
  let stepsDone = 0;
  let referenceReported = false;
  let previewLatents: FloatTensor | undefined;

  const batchInput = (chunk: number[], extraFeeds: SharingFeeds | undefined, pinned: boolean): DenoiseInput => {
    const sampler = createSampler(options.sampler, layout.schedulerConfig, options.steps, { source: layout.schedulerFile });
    // A filler row repeats the batch's first image; its output is never used.
    const lead = chunk.find((slot) => slot !== FILLER)!;
    const rowSlots = chunk.map((slot) => (slot === FILLER ? lead : slot));
    const sources = rowSlots.map((slot) => new GaussianSource(seedOf(slot)));
    const start = new Float32Array(rowSlots.length * perImage);
    rowSlots.forEach((slot, row) => {
      const given = output.get(slot);
      const initial =
        reference && slot === 0
          ? reference.trajectory.data.subarray(reference.offset * perImage, (reference.offset + 1) * perImage)
          : scaleBy(options.initLatents && given !== undefined ? options.initLatents.data.subarray(given * perImage, (given + 1) * perImage) : sources[row].next(perImage), sampler.initNoiseSigma);
      start.set(initial, row * perImage);
    });
    const rows = pickRows(cond, rowSlots.map((slot) => rowOf[slots.indexOf(slot)]));
    return {
      latents: { data: start, dims: [rowSlots.length, ...latentShape] },
      cond: rows,
      uncond: uncond ? pickRows(uncond, rowSlots.map(() => 0)) : rows,
      guidance: options.guidance,
      sampler,
      width: options.width,
      height: options.height,
      extraFeeds,
      noise: () => concatBatch(sources.map((s) => ({ data: s.next(perImage), dims: [1, ...latentShape] }))).data,
      afterStep: reference && pinned ? (step, latents) => pinReference(latents, reference, step, perImage) : undefined,
      preview: options.previewEvery ? { every: options.previewEvery, emit: (estimate) => (previewLatents = estimate) } : undefined,
      onStep: () => {
        control.onProgress?.({ phase: 'denoising', step: ++stepsDone, total: totalSteps, previewLatents });
        previewLatents = undefined;
      },
      signal: control.signal,
    };
  };

  async function* decode(chunk: number[], final: FloatTensor): AsyncGenerator<GeneratedImage> {
    for (const [row, slot] of chunk.entries()) {
      const index = output.get(slot);
      if (slot === FILLER || index === undefined) continue;
      if (slot === 0) {
        if (referenceReported) continue;
        referenceReported = true;
      }
      // Before the decoder runs: "decoding image index + 1 of n".
      control.onProgress?.({ phase: 'decoding', step: index + 1, total: options.prompts.length });
      const latents = sliceBatch(final, row, row + 1);
      const pixels = await decodeLatents(pipeline.model.vaeDecoder, layout, latents);
      yield { index, prompt: options.prompts[index], seed: seedOf(slot), pixels, latents: { data: latents.data.slice(), dims: latents.dims } };
    }
  }

  if (lockstep) {
    // Announced first: loading the lockstep session (on a set's first use) counts as denoising.
    control.onProgress?.({ phase: 'denoising', step: 0, total: totalSteps });
    const unet = await lockstep.unet();
    const guided = usesClassifierFreeGuidance(unet, options.guidance);
    const running = batches.map((chunk, b) => new DenoisingBatch(unet, batchInput(chunk, b === 0 ? lockstep.referenceFeeds : undefined, b === 0)));
    for (let step = 0; step < running[0].steps; step++) {
      let handedOn: Record<string, FloatTensor> = {};
      for (const [b, batch] of running.entries()) {
        await stepBoundary(control.signal);
        if (b === 0) handedOn = await batch.step(step, { outputs: lockstep.handedOn });
        else await batch.step(step, { feeds: lockstep.targetFeeds({ images: batches[b].length, guided }, handedOn) });
      }
    }
    for (const [b, batch] of running.entries()) yield* decode(batches[b], batch.latents);
    return;
  }

  for (const chunk of chunks) {
    const input = batchInput(chunk, sharing?.feeds, true);
    // Announced before the first step, so that the step's time counts as denoising (see PhaseTimer).
    control.onProgress?.({ phase: 'denoising', step: stepsDone, total: totalSteps });
    yield* decode(chunk, await denoise(pipeline.unet, input));
  }
}

/** The images per U-Net batch `generateSet` runs a set with: `chunkSize`, else `chunkSizeFor` the set. */
export function setChunkSize(options: GenerateOptions): number {
  const withImageOrPrompt = options.reference !== undefined || options.referencePrompt !== undefined;
  const slots = options.prompts.length + (withImageOrPrompt ? 1 : 0);
  const withReference = withImageOrPrompt || (options.sharing?.active === true && slots > 1);
  return options.chunkSize ?? chunkSizeFor(slots, options.batchSize, withReference);
}

/**
 * Every prompt's conditioning, each prompt encoded alone (a batch of one), so that its numbers
 * never depend on which prompts share its set; a prompt given twice is encoded once.
 */
async function encodeEach(pipeline: Pipeline, prompts: readonly string[]): Promise<{ conditioning: TextConditioning; rowOf: number[] }> {
  const distinct = [...new Set(prompts)];
  const parts: TextConditioning[] = [];
  for (const prompt of distinct) parts.push(await pipeline.conditioner.encode([prompt]));
  const conditioning: TextConditioning = {
    hidden: concatBatch(parts.map((p) => p.hidden)),
    pooled: parts[0].pooled ? concatBatch(parts.map((p) => p.pooled!)) : undefined,
  };
  return { conditioning, rowOf: prompts.map((prompt) => distinct.indexOf(prompt)) };
}

function scaleBy(values: Float32Array, factor: number): Float32Array {
  if (factor === 1) return values;
  return values.map((v) => v * factor);
}

/** After step k the reference takes trajectory entry max(offset + 1, k + 1) (the method doc). */
function pinReference(latents: FloatTensor, reference: NonNullable<GenerateOptions['reference']>, step: number, perImage: number): void {
  const entry = Math.min(Math.max(reference.offset + 1, step + 1), reference.trajectory.dims[0] - 1);
  latents.data.set(reference.trajectory.data.subarray(entry * perImage, (entry + 1) * perImage), 0);
}

function checkReference(reference: NonNullable<GenerateOptions['reference']>, steps: number, latentShape: readonly number[]): void {
  checkLatents(reference.trajectory, [steps + 1, ...latentShape], 'the reference trajectory');
  if (!Number.isInteger(reference.offset) || reference.offset < 0 || reference.offset >= steps) {
    throw new InputError(`inversion offset must be an integer from 0 to ${steps - 1} (steps - 1), got ${reference.offset}`);
  }
}

function checkLatents(t: FloatTensor, expected: readonly number[], what: string): void {
  if (t.dims.length !== expected.length || t.dims.some((d, i) => d !== expected[i])) {
    throw new InputError(`${what} have shape [${t.dims.join(', ')}], expected [${expected.join(', ')}] (NCHW)`);
  }
}
