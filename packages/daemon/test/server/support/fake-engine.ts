import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelInfo, Phase } from '@styleset/protocol';
import type { Engine, EngineEvents, EngineJob, EngineOutcome, EngineSvg, EngineVectorSet } from '../../../src/engine/engine';
import { CancelledError, StylesetError } from '../../../src/errors';
import { encodePng } from '../../../src/image/png';

/** A test double of the diffusion pipeline: same contract, deterministic tiny PNGs, no model. */
export const FAKE_MODELS: readonly ModelInfo[] = [
  {
    id: 'tiny',
    name: 'Tiny test model',
    kind: 'default',
    width: 64,
    height: 64,
    defaults: { scheduler: 'ddim', steps: 4, guidance: 1 },
    loaded: false,
  },
  {
    id: 'sd15',
    name: 'SD 1.5 stand-in',
    kind: 'sd1',
    width: 512,
    height: 512,
    defaults: { scheduler: 'ddim', steps: 4, guidance: 7.5 },
    loaded: false,
    path: '/models/sd15',
  },
];

export interface FakeEngineOptions {
  /** Per denoising step (and for loading a model); 0 still yields to the event loop. */
  stepDelayMs?: number;
  /** Attach a preview every this many steps. */
  previewEvery?: number;
  /** Hold (as `hold()` does) just before decoding this image, leaving the ones before it delivered. */
  holdBeforeImage?: number;
  /** Reject after this denoising step with a StylesetError of this code. */
  fail?: { code: string; message: string; afterStep: number };
  /** Results of random noise (about width x height x 3 bytes each), for tests of what the daemon buffers. */
  noisyResults?: boolean;
  /** With `background: 'transparent'`: images whose background is kept, with a warning. */
  keptBackgrounds?: number[];
  /** With SVG asked for: images that get no SVG, with a warning. */
  svgFailures?: number[];
  /** Hold (as `hold()` does) after the last image, before the SVGs. */
  holdBeforeVector?: boolean;
  /** Reject with a StylesetError of this code where the SVGs would be made. */
  failInVector?: { code: string; message: string };
}

/** Two colours per palette, distinct per image for `palette: 'image'`. */
function fakeColors(seed: number): string[] {
  const hex = (v: number) => `#${(v & 0xffffff).toString(16).padStart(6, '0')}`;
  return [hex(seed * 2654435761), hex(seed * 40503 + 7)];
}

/** The SVG every fake SVG result carries, so a test can check the bytes it got back. */
export function fakeSvg(width: number, height: number, seed: number, colors = fakeColors(seed)): Uint8Array {
  const paths = colors.map((fill, i) => `<path fill="${fill}" d="M${i} ${i}h${width - 2 * i}v${height - 2 * i}H${i}z"/>`).join('');
  return new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}">${paths}</svg>`);
}

/** The image every fake result carries, so a test can check the bytes it got back. */
export function fakePng(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = seed & 0xff;
    data[i + 1] = (seed >>> 8) & 0xff;
    data[i + 2] = (i / 3) & 0xff;
  }
  return new Uint8Array(encodePng({ width, height, channels: 3, data }));
}

function noisePng(width: number, height: number): Uint8Array {
  return new Uint8Array(encodePng({ width, height, channels: 3, data: new Uint8Array(randomBytes(width * height * 3)) }));
}

export class FakeEngine implements Engine {
  readonly defaultModelId = 'tiny';
  /** Every job it was asked to run, in order. */
  readonly jobs: EngineJob[] = [];
  closed = false;
  private readonly loaded = new Set<string>();
  private gate?: { promise: Promise<void>; open(): void };

  constructor(readonly options: FakeEngineOptions = {}) {}

  /** Steps wait from now until `release` (aborting still stops them). */
  hold(): void {
    let open = () => {};
    this.gate ??= { promise: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  async listModels(): Promise<ModelInfo[]> {
    return FAKE_MODELS.map((model) => ({ ...model, loaded: this.loaded.has(model.id) }));
  }

  async run(job: EngineJob, events: EngineEvents, signal: AbortSignal): Promise<EngineOutcome> {
    this.jobs.push(job);
    const timings: Partial<Record<Phase, number>> = {};
    const timed = async (phase: Phase, body: () => Promise<void>) => {
      const start = performance.now();
      await body();
      timings[phase] = performance.now() - start;
    };
    const { model, steps, width, height, seed } = job.options;
    if (!this.loaded.has(model)) {
      await timed('loading', async () => {
        events.onProgress({ phase: 'loading', step: 0, total: 1 });
        await this.step(signal);
        this.loaded.add(model);
        events.onProgress({ phase: 'loading', step: 1, total: 1 });
      });
    }
    await timed('denoising', async () => {
      for (let step = 1; step <= steps; step++) {
        await this.step(signal);
        const { fail, previewEvery } = this.options;
        if (fail !== undefined && step >= fail.afterStep) throw new StylesetError(fail.code, fail.message);
        const preview = previewEvery !== undefined && step % previewEvery === 0 ? fakePng(8, 8, step) : undefined;
        events.onProgress({ phase: 'denoising', step, total: steps, preview });
      }
    });
    await timed('decoding', async () => {
      for (const [index, prompt] of job.prompts.entries()) {
        if (index === this.options.holdBeforeImage) this.hold();
        await this.step(signal);
        // As the pipeline seeds them: image i of a set is its seed + i (a saved style's images continue its set).
        const imageSeed = (seed + (job.firstIndex ?? 0) + index) >>> 0;
        const png = this.options.noisyResults ? noisePng(width, height) : fakePng(width, height, imageSeed);
        const kept = this.options.keptBackgrounds?.includes(index) === true;
        const background = job.options.background === 'transparent' ? { transparent: !kept, ...(kept && { warning: 'background kept: fake' }) } : {};
        await events.onResult({ index, prompt, seed: imageSeed, width, height, png, latents: { data: new Float32Array([imageSeed]), dims: [1, 1, 1, 1] }, ...background });
        events.onProgress({ phase: 'decoding', step: index + 1, total: job.prompts.length });
      }
    });
    if (job.options.format !== 'png' && events.onVector !== undefined) {
      if (this.options.holdBeforeVector) this.hold();
      await this.step(signal);
      const { failInVector } = this.options;
      if (failInVector !== undefined) throw new StylesetError(failInVector.code, failInVector.message);
      await events.onVector(this.vectorSet(job));
    }
    return { trajectoryKey: job.kind === 'reference' || job.kind === 'inversion' ? `trajectory-${seed}` : undefined, timings };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** SVGs as the engine's VectorStage reports them: one palette for the set, or one per image. */
  private vectorSet(job: EngineJob): EngineVectorSet {
    const { seed, width, height, palette } = job.options;
    const failing = new Set(this.options.svgFailures ?? []);
    const traced = job.prompts.map((_, index) => index).filter((index) => !failing.has(index));
    const palettes = palette === 'set' ? [{ colors: fakeColors(seed), images: traced }] : traced.map((index) => ({ colors: fakeColors(seed + index), images: [index] }));
    const images: EngineSvg[] = job.prompts.map((prompt, index) => {
      const meta = { index, prompt, seed: (seed + index) >>> 0, width, height };
      const kept = job.options.background === 'transparent' && this.options.keptBackgrounds?.includes(index) === true;
      if (failing.has(index)) return { ...meta, warning: `${kept ? 'background kept: fake; ' : ''}no SVG: fake failure` };
      const k = palettes.findIndex((p) => p.images.includes(index));
      const svg = fakeSvg(width, height, meta.seed, palettes[k].colors);
      const stats = { paths: 2, subpaths: 2, bytes: svg.length, colours: palettes[k].colors, fidelity: 'smooth' as const, errorQuantised: 0, errorOriginal: 0 };
      return { ...meta, svg, palette: k, stats, ...(kept && { warning: 'background kept: fake' }) };
    });
    const failed = images.filter((im) => im.svg === undefined).map((im) => ({ index: im.index, warning: im.warning! }));
    return { images, summary: { palettes, ...(failed.length > 0 && { failed }) }, ms: 1 };
  }

  /** One unit of work: the delay, any hold, and the abort check the real pipeline makes per step. */
  private async step(signal: AbortSignal): Promise<void> {
    const work = Promise.all([sleep(this.options.stepDelayMs ?? 0), this.gate?.promise]);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new CancelledError());
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      );
    });
  }
}
