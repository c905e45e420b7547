import { LIMITS, STYLE_LIMITS, type Phase, type StyleInfo } from '@styleset/protocol';
import type { AssetRecord, Output, SetStyle } from './asset-record';
import { DaemonConnection, DaemonProblem, type JobEnd, type JobEvent, type OpenSocket, type Submission, type Welcome } from './daemon-client';
import { destinationFor } from './destination';
import type { AssetImage, RunEnd, UiToMain } from './messages';
import { explain, type Explanation } from './problems';
import { progressFraction } from './progress';
import { prepareSet, type SetItem } from './prompts';
import type { SelectionInfo } from './selection';
import type { StyleSource } from './style';
import { code, plainText, words } from './text';
import { paintStyleColors } from './paint-styles';

export interface RunForm {
  names: string;
  styleHint: string;
  /** Describes the style's reference image; used only with a style. */
  referencePrompt: string;
  output: Output;
}

/** Everything the panel shows about a run; the UI entry only copies it into the DOM. */
export interface ViewState {
  busy: boolean;
  status: string;
  /** 0 to 1 while a run is under way; none once it ended. */
  fraction?: number;
  /** The latest preview of the images in progress (a PNG strip), while a job runs. */
  preview?: Uint8Array;
  /** Worth knowing, not wrong: names typed twice were dropped. */
  note?: string;
  error?: Explanation;
}

export interface RunDeps {
  url: string;
  token: string;
  openSocket: OpenSocket;
  toMain(message: UiToMain): void;
  /**
   * The style's node as a PNG of exactly `width` x `height`, exported by the main thread; rejects
   * with a `DaemonProblem` (`reference_unavailable`) when the node is gone or cannot be exported.
   */
  exportReference(nodeId: string, width: number, height: number): Promise<Uint8Array>;
  render(view: ViewState): void;
  /** A seed for a regenerated image: random, never `avoid` (the seed of the image it replaces). */
  newSeed(avoid: number): number;
}

export interface RunHandle {
  /**
   * Cancels the run; with a reason, it ends as that error instead of a plain cancellation. Either
   * way the main thread's `summary` then counts what was placed.
   */
  stop(reason?: string): void;
}

/** Denoising steps between previews: ten over the default model's 50 steps. */
export const PREVIEW_EVERY = 5;

/**
 * A job's options for the output asked for. SVGs of a set share one palette, which becomes the
 * set's paint styles; a PNG run sets none of the vector options, so the daemon's answers are as
 * they were before vector output.
 */
export function jobOptions(output: Output, seed?: number) {
  return {
    ...(seed === undefined ? {} : { seed }),
    previewEvery: PREVIEW_EVERY,
    ...(output.format === 'svg' ? { format: 'svg' as const, palette: 'set' as const } : {}),
    ...(output.transparent ? { background: 'transparent' as const } : {}),
  };
}

const PHASE_TEXT: Record<Phase, (step: number, total: number) => string> = {
  loading: () => 'Loading the model',
  encoding: () => 'Reading the prompts',
  inverting: (step, total) => `Inverting the style reference, step ${step} of ${total}`,
  denoising: (step, total) => `Denoising, step ${step} of ${total}`,
  decoding: (step, total) => `Decoding image ${step} of ${total}`,
};

const PAIR = code('npx styleset pair');

/** A set to run, or what to fix first. */
export type CheckedSet = { items: SetItem[]; duplicates: string[]; setName: string; referencePrompt?: string } | { error: Explanation };

/** The token, the destination, the names and (with a style) the reference prompt, in the order the panel shows them. */
export function checkSetForm(form: RunForm, token: string, selection: SelectionInfo, style: StyleSource | undefined): CheckedSet {
  if (token.trim() === '') return { error: tokenMissing() };
  const destination = destinationFor(selection, style);
  if (destination.kind === 'none') return { error: { message: [destination.hint] } };
  const set = prepareSet(form.names, form.styleHint);
  if (!set.ok) return { error: { message: [set.error], field: 'names' } };
  const setName = destination.kind === 'frame' ? destination.name : `${style!.name} set`;
  // A saved style brings its own reference.
  if (style === undefined || style.kind === 'saved') return { items: set.items, duplicates: set.duplicates, setName };
  const referencePrompt = form.referencePrompt.trim();
  if (referencePrompt === '') {
    return { error: { message: [`Describe the style’s layer “${style.name}” in a few words, e.g. “a star icon”: the daemon inverts it with that prompt.`], field: 'referencePrompt' } };
  }
  if (referencePrompt.length > LIMITS.maxPromptLength) {
    return { error: { message: [`The reference prompt is over ${LIMITS.maxPromptLength} characters: shorten it.`], field: 'referencePrompt' } };
  }
  return { items: set.items, duplicates: set.duplicates, setName, referencePrompt };
}

const tokenMissing = (): Explanation => ({
  message: words`Paste the pairing token: run ${PAIR} in a terminal and copy the token it prints.`,
  field: 'token',
});

/**
 * Makes a set: in the style of a layer on the canvas (exported at the model's size, inverted once
 * by the daemon, then every image styled after it) or, without a style, from the names alone (the
 * first image is the style). Each image goes to the main thread as it arrives, named after its
 * name. Returns undefined, with the reason rendered, when the form is not ready.
 */
export function startSetRun(form: RunForm, selection: SelectionInfo, style: StyleSource | undefined, deps: RunDeps): RunHandle | undefined {
  const checked = checkSetForm(form, deps.token, selection, style);
  if ('error' in checked) {
    deps.render({ busy: false, status: '', error: checked.error });
    return undefined;
  }
  const { items, duplicates, setName, referencePrompt } = checked;
  const destination = destinationFor(selection, style);
  if (destination.kind === 'none') return undefined;
  const run = new Run(deps, items.length, duplicates.length > 0 ? `Repeated names made once: ${duplicates.join(', ')}.` : undefined);
  deps.toMain({ type: 'begin', plan: { kind: 'set', count: items.length, destination, setName } });
  const prompts = items.map((item) => item.prompt);
  const { output } = form;
  const saved = style?.kind === 'saved' ? { savedStyle: style.name } : {};
  const placeResult = (set: SetStyle | null) => (result: Extract<JobEvent, { type: 'result' }>) =>
    run.place(result, { name: items[result.index].name, prompt: result.prompt, seed: result.seed, output, style: set, ...saved });

  void run.execute(async () => {
    const welcome = await run.connect();
    run.checkCount(items.length, welcome);
    const options = jobOptions(output);
    const submitting = `Submitting ${items.length} prompts…`;
    const end =
      style === undefined || style.kind === 'saved'
        ? await run.job({ kind: 'set', prompts, ...(style && { style: style.name }), options }, undefined, submitting, placeResult(null))
        : await (async () => {
            const set = await run.invert(welcome, style.nodeId, style.name, referencePrompt!);
            const submission = { kind: 'reference' as const, prompts, referencePrompt: set.referencePrompt, inversionJobId: set.inversionJobId, options };
            return run.job(submission, undefined, submitting, placeResult(set));
          })();
    // The set's one palette (every SVG fills from it) becomes its paint styles.
    const { colors, total } = paintStyleColors(end.vector);
    if (colors.length > 0) deps.toMain({ type: 'palette', colors, total });
  });
  return run;
}

/**
 * Makes one asset again with a new seed, in its set's style (the daemon's inversion of the set's
 * reference, reused; inverted again from the canvas if the daemon no longer has it), and replaces
 * its layer.
 */
export function startRegenerate(nodeId: string, asset: AssetRecord, deps: RunDeps): RunHandle | undefined {
  if (deps.token.trim() === '') {
    deps.render({ busy: false, status: '', error: tokenMissing() });
    return undefined;
  }
  if (asset.style === null && asset.savedStyle !== undefined) return regenerateInSavedStyle(nodeId, asset, asset.savedStyle, deps);
  if (asset.style === null) {
    deps.render({
      busy: false,
      status: '',
      error: { message: [`“${asset.name}” is from a set made from names alone, whose style was its first image: only images made in a style from the canvas (Use as style) can be made again in the same style.`] },
    });
    return undefined;
  }
  let style = asset.style;
  const run = new Run(deps, 1);
  deps.toMain({ type: 'begin', plan: { kind: 'regenerate', nodeId } });
  const seed = deps.newSeed(asset.seed);
  const again = (inversionJobId: string) =>
    run.job(
      { kind: 'reference', prompts: [asset.prompt], referencePrompt: style.referencePrompt, inversionJobId, options: jobOptions(asset.output, seed) },
      undefined,
      `Making “${asset.name}” again…`,
      (result) => run.place(result, { name: asset.name, prompt: asset.prompt, seed: result.seed, output: asset.output, style }),
    );

  void run.execute(async () => {
    const welcome = await run.connect();
    try {
      await again(style.inversionJobId);
    } catch (error) {
      // Pruned after its retention, or asked of another daemon: invert the reference again.
      const gone = error instanceof DaemonProblem && error.problem.code === 'job_not_found' && error.problem.field === 'inversionJobId';
      if (!gone) throw error;
      try {
        style = await run.invert(welcome, style.referenceNodeId, style.referenceName, style.referencePrompt);
      } catch (reason) {
        if (!(reason instanceof DaemonProblem && reason.problem.code === 'reference_unavailable')) throw reason;
        throw new DaemonProblem({
          code: 'reference_unavailable',
          message: `The daemon no longer has the style of “${asset.name}”’s set, and its reference “${style.referenceName}” is no longer in this file: select a layer, click Use as style and make the set again.`,
        });
      }
      await again(style.inversionJobId);
    }
  });
  return run;
}

/**
 * Makes an asset of a set in a saved style again: another image of the style's set, so the same
 * reference leads it. A style saved from a set gives image i the set's seed + i, so another index
 * is another seed (never the one the asset has); an image style takes a new seed.
 */
function regenerateInSavedStyle(nodeId: string, asset: AssetRecord, name: string, deps: RunDeps): RunHandle {
  const run = new Run(deps, 1);
  deps.toMain({ type: 'begin', plan: { kind: 'regenerate', nodeId } });
  void run.execute(async () => {
    await run.connect();
    const style = (await run.styles()).find((candidate) => candidate.name === name);
    if (style === undefined) {
      throw new DaemonProblem({ code: 'style_not_found', message: `The daemon no longer keeps the saved style “${name}” that “${asset.name}” was made in` });
    }
    let placement: { firstIndex?: number; seed?: number };
    if (style.seed === undefined) {
      placement = { seed: deps.newSeed(asset.seed) };
    } else {
      const current = (asset.seed - style.seed) >>> 0;
      let index: number;
      do index = 1 + (deps.newSeed(asset.seed) % STYLE_LIMITS.maxIndex);
      while (index === current);
      placement = { firstIndex: index };
    }
    await run.job(
      { kind: 'set', prompts: [asset.prompt], style: name, ...(placement.firstIndex !== undefined && { firstIndex: placement.firstIndex }), options: jobOptions(asset.output, placement.seed) },
      undefined,
      `Making “${asset.name}” again…`,
      (result) => run.place(result, { ...asset, seed: result.seed }),
    );
  });
  return run;
}

/** The designer stopped the run, or the main thread stopped it with a reason. */
class Stopped extends Error {}

/** Why a run failed, for the panel: the daemon's problem, the main thread's reason, or the plugin's own fault. */
function explanationOf(error: unknown, stopReason: string | undefined, url: string): Explanation {
  if (error instanceof DaemonProblem) return explain(error.problem, url);
  if (error instanceof Stopped) return { message: [stopReason!] };
  // A bug of the plugin's own: the run still ends, and says so, rather than spin forever.
  return { message: [`The plugin failed: ${error instanceof Error ? error.message : String(error)}`] };
}

/** One run over one connection: its steps, its view and how it ends. Ends exactly once. */
class Run implements RunHandle {
  private readonly view: ViewState;
  /** What the panel notes under the status: repeated names, images not quite as asked. */
  private readonly notes: string[] = [];
  private connection?: DaemonConnection;
  private stopped = false;
  private stopReason?: string;
  private received = 0;

  constructor(
    private readonly deps: RunDeps,
    private readonly total: number,
    note?: string,
  ) {
    if (note !== undefined) this.notes.push(note);
    this.view = { busy: true, status: '', fraction: 0, note };
  }

  stop(reason?: string): void {
    if (!this.view.busy) return;
    this.stopped = true;
    this.stopReason ??= reason;
    this.connection?.cancel();
  }

  async execute(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
      this.finish({ status: 'done' }, { status: `Made ${this.received} of ${this.total} image${this.total === 1 ? '' : 's'}.` });
    } catch (error) {
      if (error instanceof Stopped && this.stopReason === undefined) {
        this.finish({ status: 'cancelled' }, { status: `Cancelled after ${this.received} of ${this.total} image${this.total === 1 ? '' : 's'}.` });
      } else {
        const explained = explanationOf(error, this.stopReason, this.deps.url);
        this.finish({ status: 'failed', message: plainText(explained.message) }, { status: '', error: explained });
      }
    } finally {
      this.connection?.close();
    }
  }

  async connect(): Promise<Welcome> {
    this.update({ status: 'Connecting to the daemon…' });
    const { connection, welcome } = await DaemonConnection.open(this.deps.url, this.deps.token, this.deps.openSocket);
    // Kept before anything else, so that the end of the run closes it whatever happens next.
    this.connection = connection;
    this.checkStopped();
    return welcome;
  }

  /** The styles the daemon keeps. */
  async styles(): Promise<StyleInfo[]> {
    return this.wait(this.connection!.listStyles());
  }

  /** The daemon may be stricter than the protocol's limit; it says so in `welcome`. */
  checkCount(count: number, welcome: Welcome): void {
    const max = welcome.limits.maxPromptsPerJob;
    if (count <= max) return;
    throw new DaemonProblem({ code: 'invalid_input', message: `this daemon takes at most ${max} images per set, and the set has ${count}`, field: 'prompts' });
  }

  /** Exports the style's node at the daemon's model size and has the daemon invert it; the set's style as the daemon keeps it. */
  async invert(welcome: Welcome, nodeId: string, name: string, referencePrompt: string): Promise<SetStyle> {
    const model = await this.wait(this.connection!.getModel(welcome.defaultModel));
    this.update({ status: `Exporting “${name}” at ${model.width} × ${model.height}…` });
    const png = await this.wait(this.deps.exportReference(nodeId, model.width, model.height));
    const { jobId } = await this.job(
      { kind: 'inversion', referencePrompt, attachment: { byteLength: png.length, mime: 'image/png' } },
      png,
      'Sending the style reference…',
    );
    return { referencePrompt, inversionJobId: jobId, referenceNodeId: nodeId, referenceName: name };
  }

  /** Runs one job to its end; its results go to `onResult`. Resolves with the job's end: its id, and its SVGs' palettes. */
  async job(
    submission: Submission,
    bytes: Uint8Array | undefined,
    status: string,
    onResult?: (result: Extract<JobEvent, { type: 'result' }>) => void,
  ): Promise<Extract<JobEnd, { status: 'done' }>> {
    this.checkStopped();
    this.update({ status });
    const end = await this.connection!.runJob(submission, bytes, (event) => {
      switch (event.type) {
        case 'queued':
          this.update({ status: `Queued behind ${event.position} job${event.position === 1 ? '' : 's'}…` });
          return;
        case 'running':
          this.update({ status: 'Generating…' });
          return;
        case 'progress':
          this.update({
            status: PHASE_TEXT[event.phase](event.step, event.total),
            // One bar for the whole run: an inversion, then a set whose early phases it skips.
            fraction: Math.max(this.view.fraction ?? 0, progressFraction(event.phase, event.step, event.total)),
            ...(event.preview ? { preview: event.preview } : {}),
          });
          return;
        case 'result':
          onResult?.(event);
          return;
      }
    });
    if (end.status === 'cancelled') throw new Stopped();
    return end;
  }

  place(result: Extract<JobEvent, { type: 'result' }>, record: AssetRecord): void {
    this.received++;
    const { index, format, bytes, width, height, warning } = result;
    const image: AssetImage = format === 'svg' ? { format, svg: new TextDecoder().decode(bytes) } : { format, png: bytes };
    this.deps.toMain({ type: 'asset', asset: { index, record, image, width, height } });
    if (warning !== undefined) {
      this.notes.push(`“${record.name}”: ${warning}.`);
      this.update({ note: this.notes.join(' ') });
    }
  }

  /** A step outside the daemon's jobs (an answer, an export): once it is back, a stop takes effect. */
  private async wait<T>(step: Promise<T>): Promise<T> {
    const value = await step;
    this.checkStopped();
    return value;
  }

  private checkStopped(): void {
    if (this.stopped) throw new Stopped();
  }

  private update(change: Partial<ViewState>): void {
    Object.assign(this.view, change);
    this.deps.render({ ...this.view });
  }

  private finish(end: RunEnd, change: Partial<ViewState>): void {
    this.deps.toMain({ type: 'end', end });
    this.view.fraction = undefined;
    this.view.preview = undefined;
    this.update({ busy: false, ...change });
  }
}

/**
 * The panel once the main thread has counted what it placed: its count replaces the run's own last
 * status, and a shortfall the panel has not explained yet (the frame was deleted) becomes its error.
 */
export function withSummary(view: ViewState, summary: { status: string; error: boolean }): ViewState {
  if (summary.error && view.error === undefined) return { ...view, status: '', error: { message: [summary.status] } };
  return { ...view, status: summary.status };
}
