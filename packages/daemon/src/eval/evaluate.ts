import {
  referenceOptionsSchema,
  resolveOptions,
  setOptionsSchema,
  type JobKind,
  type ModelInfo,
  type ResolvedOptions,
  type SetOptions,
} from '@styleset/protocol';
import type { Engine, EngineJob } from '../engine/engine';
import { InputError } from '../errors';
import { decodeImage } from '../image/decode';
import type { Image8 } from '../image/image8';
import { encodePng } from '../image/png';
import { comparePaired, summarize, type PairedComparison, type Summary } from './aggregate';
import { imageStyle, setConsistency, type ImageStyle, type SetConsistency } from './consistency';
import { ContentIndex, type ContentScore } from './content';
import { coverageMask } from './glyph-features';
import type { GlyphLibrary, GlyphSet } from './glyph-library';
import { iconPrompt, planSets, type SetPlan } from './plan';
import { drawReferenceIcon } from './reference-icon';
import { separateIcon } from './separate';

/** What the daemon generates, per set. */
export const CONDITIONS = ['plain', 'styleAligned', 'reference'] as const;
export type Condition = (typeof CONDITIONS)[number];

export const CONDITION_LABELS: Record<Condition, string> = {
  plain: 'plain generation',
  styleAligned: 'StyleAligned',
  reference: 'StyleAligned, reference image',
};

/** The 16 procedural shapes the previous embedded model knew: names drawing one of them are reported apart. */
export const OLD_SHAPES = ['circle', 'square', 'triangle', 'star', 'heart', 'moon', 'house', 'drop', 'bolt', 'cloud', 'arrow', 'gear', 'diamond', 'cross', 'hexagon', 'flower'];

export interface EvalOptions {
  sets: number;
  setSize: number;
  seed: number;
  /** Applied to every condition when given; otherwise each job kind's defaults apply. */
  steps?: number;
  guidance?: number;
  /** Sets whose images are kept for the contact sheet. */
  examples: number;
  /** Plain images generated per vocabulary name for the per-name content scores (0: none). */
  perName: number;
}

export interface ExampleSet {
  plan: SetPlan;
  reference: Image8;
  images: Record<Condition, Image8[]>;
}

/** Per-set numbers of one condition. */
export interface SetResult {
  consistency: SetConsistency;
  content: ContentScore[];
  /** Images (the reference excluded) whose best-matching name is the reference's instead of their own. */
  leakage: number;
}

export interface ContentSummary {
  /** Images whose best-matching held-out glyph is the asked-for name's. */
  top1: number;
  /** ... among the 5 best. */
  top5: number;
  /** Mean shape similarity to the asked-for name's held-out glyph. */
  similarity: number;
  images: number;
}

export interface ConditionSummary {
  content: { all: ContentSummary; newNames: ContentSummary };
  consistency: Record<keyof SetConsistency, Summary>;
  leakage: Summary;
}

/** How a name scores: generated images vs the training sets' own glyphs (the attainable level). */
export interface NameScore {
  name: string;
  /** True when the name draws one of the previous model's 16 shapes. */
  oldShape: boolean;
  generated: ContentSummary;
  /** The tabler and phosphor glyphs of the name, scored the same way. */
  calibration: ContentSummary;
}

export interface EvalReport {
  model: Pick<ModelInfo, 'id' | 'kind' | 'path' | 'width' | 'height'>;
  options: EvalOptions;
  /** The options each condition's jobs ran with, but the seed (per set, in `sets`). */
  resolved: Record<Condition, ResolvedOptions>;
  vocabulary: number;
  sets: { index: number; seed: number; names: string[]; reference: SetPlan['reference'] }[];
  results: Record<Condition, SetResult[]>;
  summary: Record<Condition, ConditionSummary>;
  /** The training sets' glyphs scored against the held-out set: what a perfect drawing of the vocabulary reaches. */
  calibration: Partial<Record<GlyphSet, ContentSummary>>;
  /** Colour-histogram spread of StyleAligned sets over plain sets on the same prompts and seeds (lower: more alike). */
  spreadRatio: { styleAligned: number; reference: number };
  /** StyleAligned vs plain, set by set: a win is a smaller spread. */
  paired: { spread: PairedComparison; top1: PairedComparison };
  perName: NameScore[];
  /** Wall time per condition and for the per-name sweep, milliseconds (model loading falls in the first job). */
  timings: Record<Condition | 'perName', number>;
  examples: ExampleSet[];
}

export interface EvalHooks {
  /** After each generated job. */
  onJobDone?(done: number, total: number, what: string): void;
  signal?: AbortSignal;
}

function checked(kind: JobKind, given: SetOptions): SetOptions {
  const parsed = (kind === 'reference' ? referenceOptionsSchema : setOptionsSchema).safeParse(given);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`--${String(issue.path[0])}: ${issue.message} (for the ${kind === 'reference' ? 'reference-image' : 'set'} jobs)`);
  }
  return given;
}

/** Each condition's options, checked as the protocol checks a job's; seeds are set per job. */
function conditionOptions(model: ModelInfo, options: EvalOptions): Record<Condition, ResolvedOptions> {
  const given: SetOptions = {};
  if (options.steps !== undefined) given.steps = options.steps;
  if (options.guidance !== undefined) given.guidance = options.guidance;
  return {
    plain: resolveOptions('set', model, checked('set', { ...given, shareAttention: false })),
    styleAligned: resolveOptions('set', model, checked('set', given)),
    reference: resolveOptions('reference', model, checked('reference', given)),
  };
}

async function generate(engine: Engine, job: EngineJob, signal: AbortSignal | undefined): Promise<Image8[]> {
  const images: Image8[] = [];
  await engine.run(
    job,
    {
      onProgress: () => {},
      onResult: async (r) => {
        images[r.index] = decodeImage(r.png, `generated image ${r.index}`);
      },
    },
    signal ?? new AbortController().signal,
  );
  const missing = job.prompts.findIndex((_, i) => images[i] === undefined);
  if (missing >= 0) throw new Error(`the engine returned no image for prompt ${missing} ("${job.prompts[missing]}")`);
  return images;
}

export function isOldShape(library: GlyphLibrary, name: string): boolean {
  const words = (library.words[name] ?? [name]).flatMap((w) => w.split(' '));
  return words.some((w) => OLD_SHAPES.includes(w));
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarizeContent(scores: readonly ContentScore[]): ContentSummary {
  return {
    top1: mean(scores.map((s) => (s.rank === 1 ? 1 : 0))),
    top5: mean(scores.map((s) => (s.rank <= 5 ? 1 : 0))),
    similarity: mean(scores.map((s) => s.similarity)),
    images: scores.length,
  };
}

/** Scores one generated set: content per image, consistency over pairs, leakage of the reference's shape. */
export function scoreSet(index: ContentIndex, images: readonly Image8[], names: readonly string[], referenceName?: string): SetResult {
  const styles: ImageStyle[] = [];
  const content: ContentScore[] = [];
  images.forEach((image, i) => {
    const parts = separateIcon(image);
    styles.push(imageStyle(image, parts));
    content.push(index.score(parts.glyph, names[i]));
  });
  // A generated set's reference is its first image; with a reference image, every image follows it.
  const followers = referenceName === undefined ? content.slice(1) : content;
  const ref = referenceName ?? names[0];
  return {
    consistency: setConsistency(styles),
    content,
    leakage: mean(followers.map((c) => (c.name !== ref && c.predicted === ref ? 1 : 0))),
  };
}

function summarizeCondition(library: GlyphLibrary, results: readonly SetResult[]): ConditionSummary {
  const all = results.flatMap((r) => r.content);
  const keys = Object.keys(results[0]?.consistency ?? {}) as (keyof SetConsistency)[];
  return {
    content: { all: summarizeContent(all), newNames: summarizeContent(all.filter((c) => !isOldShape(library, c.name))) },
    consistency: Object.fromEntries(keys.map((k) => [k, summarize(results.map((r) => r.consistency[k]))])) as Record<keyof SetConsistency, Summary>,
    leakage: summarize(results.map((r) => r.leakage)),
  };
}

/** The training sets' own glyphs (tabler, phosphor) scored against the held-out set. */
function calibrate(library: GlyphLibrary, index: ContentIndex): { bySet: EvalReport['calibration']; byName: Map<string, ContentScore[]> } {
  const bySet: Partial<Record<GlyphSet, ContentScore[]>> = {};
  const byName = new Map<string, ContentScore[]>();
  for (const g of library.glyphs) {
    if (g.set === 'lucide') continue;
    const score = index.score(coverageMask(g.coverage, library.size, library.size), g.name);
    (bySet[g.set] ??= []).push(score);
    byName.set(g.name, [...(byName.get(g.name) ?? []), score]);
  }
  return {
    bySet: Object.fromEntries(Object.entries(bySet).map(([set, scores]) => [set, summarizeContent(scores)])),
    byName,
  };
}

/** Up to this many prompts per per-name job: one U-Net batch with guidance stays within the engine's 17. */
const PER_NAME_JOB = 8;

/**
 * Generates every set in every condition with the same prompts and seeds, scores content against
 * the held-out glyphs and consistency within each set, and sweeps the vocabulary name by name.
 */
export async function evaluate(engine: Engine, model: ModelInfo, library: GlyphLibrary, options: EvalOptions, hooks: EvalHooks = {}): Promise<EvalReport> {
  const resolved = conditionOptions(model, options);
  const index = new ContentIndex(library);
  const plans = planSets(library.names, options.sets, options.setSize, options.seed);
  const size = Math.max(model.width, model.height);
  const lucide = new Map(library.glyphs.filter((g) => g.set === 'lucide').map((g) => [g.name, g]));
  const results: Record<Condition, SetResult[]> = { plain: [], styleAligned: [], reference: [] };
  const timings: EvalReport['timings'] = { plain: 0, styleAligned: 0, reference: 0, perName: 0 };
  const examples: ExampleSet[] = [];
  const perNameJobs = options.perName > 0 ? Math.ceil((library.names.length * options.perName) / PER_NAME_JOB) : 0;
  const totalJobs = plans.length * CONDITIONS.length + perNameJobs;
  let done = 0;

  for (const plan of plans) {
    const reference = drawReferenceIcon(lucide.get(plan.reference.name)!.coverage, library.size, plan.reference.style, size);
    const generated = {} as Record<Condition, Image8[]>;
    for (const condition of CONDITIONS) {
      const job: EngineJob = {
        kind: condition === 'reference' ? 'reference' : 'set',
        prompts: plan.prompts,
        options: { ...resolved[condition], model: model.id, seed: plan.seed },
        ...(condition === 'reference' ? { referenceImage: encodePng(reference), referencePrompt: plan.reference.caption } : {}),
      };
      const started = performance.now();
      generated[condition] = await generate(engine, job, hooks.signal);
      timings[condition] += performance.now() - started;
      results[condition].push(scoreSet(index, generated[condition], plan.names, condition === 'reference' ? plan.reference.name : undefined));
      hooks.onJobDone?.(++done, totalJobs, `${CONDITION_LABELS[condition]}, set ${plan.index + 1}`);
    }
    if (examples.length < options.examples) examples.push({ plan, reference, images: generated });
  }

  // The vocabulary sweep: every name, options.perName times, plain, in jobs of up to PER_NAME_JOB prompts.
  const sweep = library.names.flatMap((name) => Array.from({ length: options.perName }, () => name));
  const generatedByName = new Map<string, ContentScore[]>();
  for (let first = 0; first < sweep.length; first += PER_NAME_JOB) {
    const names = sweep.slice(first, first + PER_NAME_JOB);
    const job: EngineJob = {
      kind: 'set',
      prompts: names.map(iconPrompt),
      options: { ...resolved.plain, model: model.id, seed: (options.seed + 1_000_000 + first) >>> 0 },
    };
    const started = performance.now();
    const images = await generate(engine, job, hooks.signal);
    timings.perName += performance.now() - started;
    images.forEach((image, i) => {
      const score = index.score(separateIcon(image).glyph, names[i]);
      generatedByName.set(names[i], [...(generatedByName.get(names[i]) ?? []), score]);
    });
    hooks.onJobDone?.(++done, totalJobs, `vocabulary, ${Math.min(first + PER_NAME_JOB, sweep.length)}/${sweep.length} images`);
  }

  const calibration = calibrate(library, index);
  const summary = Object.fromEntries(CONDITIONS.map((c) => [c, summarizeCondition(library, results[c])])) as Record<Condition, ConditionSummary>;
  const spread = (c: Condition) => summary[c].consistency.spread.mean;
  const negatedSpread = (c: Condition) => results[c].map((r) => -r.consistency.spread);
  const top1 = (c: Condition) => results[c].map((r) => mean(r.content.map((s) => (s.rank === 1 ? 1 : 0))));
  return {
    model: { id: model.id, kind: model.kind, path: model.path, width: model.width, height: model.height },
    options,
    resolved,
    vocabulary: library.names.length,
    sets: plans.map((p) => ({ index: p.index, seed: p.seed, names: p.names, reference: p.reference })),
    results,
    summary,
    calibration: calibration.bySet,
    spreadRatio: {
      styleAligned: spread('plain') > 0 ? spread('styleAligned') / spread('plain') : NaN,
      reference: spread('plain') > 0 ? spread('reference') / spread('plain') : NaN,
    },
    paired: { spread: comparePaired(negatedSpread('styleAligned'), negatedSpread('plain')), top1: comparePaired(top1('styleAligned'), top1('plain')) },
    perName:
      options.perName > 0
        ? library.names.map((name) => ({
            name,
            oldShape: isOldShape(library, name),
            generated: summarizeContent(generatedByName.get(name) ?? []),
            calibration: summarizeContent(calibration.byName.get(name) ?? []),
          }))
        : [],
    timings,
    examples,
  };
}
