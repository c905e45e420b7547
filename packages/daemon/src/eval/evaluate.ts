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
import { renderIcon } from '../icons/render';
import type { ShapeName } from '../icons/shapes';
import type { IconSpec } from '../icons/spec';
import { decodeImage } from '../image/decode';
import type { Image8 } from '../image/image8';
import { encodePng } from '../image/png';
import {
  comparePaired,
  normalizedConsistency,
  summarizeSets,
  type PairedComparison,
  type ScoresSummary,
} from './aggregate';
import { analyzeImage, scoreSet, type ImageAnalysis, type SetScores } from './metrics';
import { planSets, type SetPlan } from './plan';

/** What the daemon generates, per set. */
export const CONDITIONS = ['plain', 'styleAligned', 'reference'] as const;
export type Condition = (typeof CONDITIONS)[number];

/** Renderer icons of the same sets: the anchors the generated sets are read against. */
export const BASELINES = ['rendererSameStyle', 'rendererRandomStyles'] as const;
export type Row = Condition | (typeof BASELINES)[number];

export const ROW_LABELS: Record<Row, string> = {
  rendererSameStyle: 'renderer, one style per set (ceiling)',
  rendererRandomStyles: 'renderer, random style per icon (chance)',
  plain: 'plain generation',
  styleAligned: 'StyleAligned',
  reference: 'StyleAligned, reference image',
};

export interface EvalOptions {
  sets: number;
  setSize: number;
  seed: number;
  /** Applied to every condition when given; otherwise each job kind's defaults apply. */
  steps?: number;
  guidance?: number;
  /** Sets whose images are kept for the contact sheet. */
  examples: number;
}

export interface ExampleSet {
  plan: SetPlan;
  reference: Image8;
  images: Record<Condition, Image8[]>;
}

export interface EvalReport {
  model: Pick<ModelInfo, 'id' | 'kind' | 'path' | 'width' | 'height'>;
  options: EvalOptions;
  /** The options each condition's jobs ran with, but the seed (per set, in `sets`). */
  resolved: Record<Condition, ResolvedOptions>;
  sets: { index: number; seed: number; shapes: ShapeName[]; reference: { shape: ShapeName; caption: string } }[];
  scores: Record<Row, SetScores[]>;
  summary: Record<Row, ScoresSummary>;
  /** StyleAligned vs plain on the same sets: consistency (should win) and accuracy (should tie). */
  paired: { consistency: PairedComparison; accuracy: PairedComparison };
  /** Mean consistency on the scale chance (random-style renders) = 0 .. one-style renders = 1. */
  normalizedConsistency: Record<Condition, number | undefined>;
  /** Wall time per condition, milliseconds (model loading falls in the first job). */
  timings: Record<Condition, number>;
  examples: ExampleSet[];
}

export interface EvalHooks {
  /** After each generated set. */
  onSetDone?(done: number, total: number, condition: Condition, setIndex: number): void;
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

function render(spec: IconSpec, size: number): Image8 {
  const icon = renderIcon(spec, size);
  return { width: size, height: size, channels: 3, data: icon.rgb };
}

function analyzeAll(images: readonly Image8[], plan: SetPlan): ImageAnalysis[] {
  return images.map((image, i) => analyzeImage({ image, shape: plan.shapes[i] }));
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

/**
 * Generates every set in every condition with the same prompts and seeds, and scores them next
 * to renderer icons of the same shapes.
 */
export async function evaluate(engine: Engine, model: ModelInfo, options: EvalOptions, hooks: EvalHooks = {}): Promise<EvalReport> {
  const resolved = conditionOptions(model, options);
  const plans = planSets(options.sets, options.setSize, options.seed);
  const size = Math.max(model.width, model.height);
  const scores = Object.fromEntries([...BASELINES, ...CONDITIONS].map((row) => [row, [] as SetScores[]])) as Record<Row, SetScores[]>;
  const timings: Record<Condition, number> = { plain: 0, styleAligned: 0, reference: 0 };
  const examples: ExampleSet[] = [];
  let done = 0;

  for (const plan of plans) {
    const reference = render(plan.reference.spec, size);
    const referenceAnalysis = analyzeImage({ image: reference, shape: plan.reference.spec.shape });
    scores.rendererSameStyle.push(scoreSet(analyzeAll(plan.sameStyle.map((s) => render(s, size)), plan), referenceAnalysis));
    scores.rendererRandomStyles.push(scoreSet(analyzeAll(plan.randomStyles.map((s) => render(s, size)), plan)));

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
      const analyses = analyzeAll(generated[condition], plan);
      scores[condition].push(scoreSet(analyses, condition === 'reference' ? referenceAnalysis : undefined));
      hooks.onSetDone?.(++done, plans.length * CONDITIONS.length, condition, plan.index);
    }
    if (examples.length < options.examples) examples.push({ plan, reference, images: generated });
  }

  const summary = Object.fromEntries(Object.entries(scores).map(([row, s]) => [row, summarizeSets(s)])) as Record<Row, ScoresSummary>;
  const chance = summary.rendererRandomStyles.consistency.mean;
  const perfect = summary.rendererSameStyle.consistency.mean;
  return {
    model: { id: model.id, kind: model.kind, path: model.path, width: model.width, height: model.height },
    options,
    resolved,
    sets: plans.map((p) => ({ index: p.index, seed: p.seed, shapes: p.shapes, reference: { shape: p.reference.spec.shape, caption: p.reference.caption } })),
    scores,
    summary,
    paired: {
      consistency: comparePaired(scores.styleAligned, scores.plain, 'consistency'),
      accuracy: comparePaired(scores.styleAligned, scores.plain, 'accuracy'),
    },
    normalizedConsistency: {
      plain: normalizedConsistency(summary.plain.consistency.mean, chance, perfect),
      styleAligned: normalizedConsistency(summary.styleAligned.consistency.mean, chance, perfect),
      reference: normalizedConsistency(summary.reference.consistency.mean, chance, perfect),
    },
    timings,
    examples,
  };
}
