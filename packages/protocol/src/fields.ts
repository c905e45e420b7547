import * as z from 'zod';
import { LIMITS } from './limits';

/** Chosen by the client, echoed by the daemon in every reply to that request. */
export const requestIdSchema = z.string().min(1).max(64);

/** Chosen by the daemon; outlives the connection so a client can come back for its results. */
export const jobIdSchema = z.string().min(1).max(64);

export const modelIdSchema = z.string().min(1).max(256);

export const promptSchema = z.string().max(LIMITS.maxPromptLength);

export const seedSchema = z.int().min(LIMITS.seed.min).max(LIMITS.seed.max);

export const dimensionSchema = z
  .int()
  .min(LIMITS.size.min)
  .max(LIMITS.size.max)
  .multipleOf(LIMITS.size.multipleOf);

export const stepsSchema = z.int().min(LIMITS.steps.min).max(LIMITS.steps.max);

export const guidanceSchema = z.number().min(LIMITS.guidance.min).max(LIMITS.guidance.max);

export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg'] as const;

export type ImageMimeType = (typeof IMAGE_MIME_TYPES)[number];

/**
 * Describes the raw bytes that follow the JSON header in a binary frame. Every message that
 * carries bytes does so under this one key, so framing can check it without knowing the type.
 */
export function attachmentSchema<const M extends readonly [string, ...string[]]>(
  mimes: M,
  maxBytes: number,
) {
  return z.strictObject({
    byteLength: z.int().min(1).max(maxBytes),
    mime: z.enum(mimes),
  });
}

/** What framing needs of any attachment: the length of the bytes that follow, and their type. */
export interface Attachment {
  byteLength: number;
  mime: string;
}
