import * as z from 'zod';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Limits both ends enforce when decoding. The daemon announces the ones it applies in `welcome`
 * (it may be stricter, never looser), so a client can check a request before sending it.
 */
export const LIMITS = {
  /** A text frame, and the JSON header of a binary frame. 64 prompts at the longest fit easily. */
  maxTextMessageBytes: 512 * KIB,
  /** A whole binary frame: the 4-byte length, the header and the attached bytes. */
  maxBinaryFrameBytes: 4 + 512 * KIB + 32 * MIB,
  /** A reference image or a result PNG (a 2048x2048 RGBA PNG is at most ~16.8 MB). */
  maxImageBytes: 32 * MIB,
  /** A progress preview is a thumbnail; anything bigger would slow the job it reports on. */
  maxPreviewBytes: 256 * KIB,
  maxPromptsPerJob: 64,
  /** Characters. CLIP reads 77 tokens, so this only bounds memory, not what the model sees. */
  maxPromptLength: 1000,
  /**
   * Pixels. Stable Diffusion's VAE downsamples by 8; the smallest real size is one latent pixel
   * (tiny test models and the embedded icon model are far below SD's 512).
   */
  size: { min: 8, max: 2048, multipleOf: 8 },
  steps: { min: 1, max: 200 },
  guidance: { min: 0, max: 50 },
  /** Images per U-Net batch, the reference slot included: below 2 nothing is shared. */
  batchSize: { min: 2, max: 64 },
  sharedScoreScale: { min: 0, max: 10 },
  sharedScoreShift: { min: -10, max: 10 },
  /** Seeds are 32-bit so every RNG the daemon might use can take them unchanged. */
  seed: { min: 0, max: 0xffff_ffff },
} as const satisfies Limits;

const count = z.int().positive();
const range = z.strictObject({ min: z.number(), max: z.number() });

export const limitsSchema = z.strictObject({
  maxTextMessageBytes: count,
  maxBinaryFrameBytes: count,
  maxImageBytes: count,
  maxPreviewBytes: count,
  maxPromptsPerJob: count,
  maxPromptLength: count,
  size: z.strictObject({ min: count, max: count, multipleOf: count }),
  steps: range,
  guidance: range,
  batchSize: range,
  sharedScoreScale: range,
  sharedScoreShift: range,
  seed: range,
});

export type Limits = z.infer<typeof limitsSchema>;
