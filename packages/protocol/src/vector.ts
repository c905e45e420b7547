import * as z from 'zod';
import { LIMITS } from './limits';

/** What a `set` or `reference` job sends back for each image. */
export const OUTPUT_FORMATS = ['png', 'svg', 'both'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `transparent`: the icon cut out of the background the model drew (PNG alpha; no background shape in SVGs). */
export const BACKGROUND_MODES = ['keep', 'transparent'] as const;
export type BackgroundMode = (typeof BACKGROUND_MODES)[number];

/** Every SVG of a set fills from one palette, or each image from its own. */
export const PALETTE_SCOPES = ['set', 'image'] as const;
export type PaletteScope = (typeof PALETTE_SCOPES)[number];

/** The format of one `result`: a job with `format: 'both'` sends one of each per image. */
export const RESULT_FORMATS = ['png', 'svg'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** The MIME type each result format travels as. */
export const RESULT_MIME = { png: 'image/png', svg: 'image/svg+xml' } as const satisfies Record<ResultFormat, string>;

/**
 * Not in `LIMITS`: those are what `welcome` announces to every client, and `welcome` is strict,
 * so a new key there would make clients of this same protocol version refuse every daemon's
 * greeting. Only a client that asks for SVG ever meets this limit; both ends apply it.
 */
export const VECTOR_LIMITS = {
  /** An SVG result. Icons are kilobytes (~20 KB at 128 px); a noisy 2048 px image traced as pixel outlines can reach megabytes. */
  maxSvgBytes: 8 * 1024 * 1024,
  /** Colours in one palette (the vectoriser stops at 128). */
  maxPaletteColors: 256,
  /** Characters of a result's `warning`. */
  maxWarningLength: 1000,
} as const;

export const outputFormatSchema = z.enum(OUTPUT_FORMATS);
export const backgroundModeSchema = z.enum(BACKGROUND_MODES);
export const paletteScopeSchema = z.enum(PALETTE_SCOPES);
export const resultFormatSchema = z.enum(RESULT_FORMATS);

const imageIndexSchema = z.int().min(0).max(LIMITS.maxPromptsPerJob - 1);

/** Why an image's output is not what was asked for (its background kept, its SVG missing): for people. */
export const warningSchema = z.string().min(1).max(VECTOR_LIMITS.maxWarningLength);

/** `#rrggbb`, lower case: a palette colour as a client turns it into a paint style. */
const hexColorSchema = z.string().regex(/^#[0-9a-f]{6}$/, 'must be a colour written #rrggbb (lower case)');

/**
 * The SVGs' palettes, in `done` and `status` of a job that asked for SVG: one palette listing
 * every image with an SVG (`palette: 'set'`), or one per image (`'image'`). An SVG's fills are
 * exactly its palette's colours (optimised SVGs may write `#aabbcc` as `#abc`). `failed` lists
 * the images that got no SVG, and why; their PNG results stand.
 */
export const vectorSummarySchema = z.strictObject({
  palettes: z
    .array(
      z.strictObject({
        colors: z.array(hexColorSchema).min(1).max(VECTOR_LIMITS.maxPaletteColors),
        /** Indices of the images whose SVG fills from this palette. */
        images: z.array(imageIndexSchema).min(1).max(LIMITS.maxPromptsPerJob),
      }),
    )
    .max(LIMITS.maxPromptsPerJob),
  failed: z
    .array(z.strictObject({ index: imageIndexSchema, warning: warningSchema }))
    .min(1)
    .max(LIMITS.maxPromptsPerJob)
    .optional(),
});

export type VectorSummary = z.infer<typeof vectorSummarySchema>;
