/**
 * Images per U-Net batch, reference included, when the job leaves it open: as many as the memory
 * the provider has holds, up to MAX_BATCH_IMAGES.
 *
 * The estimate. A U-Net call's working memory grows linearly with its rows (images, twice with
 * guidance): each row carries its own activations through every block. `npm run bench` measured
 * the growth of a process's peak with the batch (section "Memory per batch row" of
 * docs/benchmarks.md, from the smallest one-batch set to the largest): 12.7 MiB per row on the
 * large tiny SD 1.x model (32x32 latents, 64 channels at the top level: 51 float32 activations of
 * that size), 31.4 MiB on the SDXL-shaped one (64x64, 64: 31) and 1.9 MiB on the embedded model
 * (16x16, 32: 61, where the fixed part of a row weighs more: time and text conditioning, the If
 * branches' small tensors). So a row is estimated at ROW_ACTIVATIONS top-level activations plus
 * ROW_FIXED_BYTES: 1.26-1.93x those slopes, never below. Self-attention adds nothing per token
 * pair: the rewritten U-Net runs it fused (MultiHeadAttention), which never writes out the scores.
 *
 * The memory the provider has. CPU: the system's available memory (os.freemem(), MemAvailable on
 * Linux) when the set starts, so the loaded weights are already out of it, of which the batch may
 * take half (the VAE decode, the images and the rest of the machine keep the other half); a cgroup
 * limit (process.constrainedMemory()) caps it. Other providers: onnxruntime-node cannot say how
 * much device memory there is, so DEVICE_DEFAULT_BYTES, about what the former pixel cap allowed.
 * `--memory-limit` (RuntimeOptions.memoryLimitMiB) sets the batch's budget outright on any provider.
 *
 * Why at most 17 images: in `npm run bench` time per image stopped falling at about 16 targets on
 * every model, while memory kept growing with the batch; larger sets run in even chunks.
 *
 * A shared set larger than one batch runs its batches in lockstep, and between the reference's
 * batch and the others the reference's keys and values of every self-attention layer are held as
 * well: 2 x the U-Net's self-attention activations (model/unet-attention.ts) per reference row,
 * about 1.7 GB for SDXL at 1024² with guidance. The batch then gets the budget less that.
 */
import { freemem } from 'node:os';
import type { RuntimeOptions } from '../model/runtime';

export const MAX_BATCH_IMAGES = 17;
/** Activations of one row at its peak, in float32 activations of the top level. */
export const ROW_ACTIVATIONS = 56;
export const ROW_FIXED_BYTES = 2 * 2 ** 20;
/** The share of available system memory a CPU batch may take. */
export const CPU_MEMORY_SHARE = 0.5;
/** The batch's budget on a GPU provider without --memory-limit. */
export const DEVICE_DEFAULT_BYTES = 2 * 2 ** 30;

/** What sets a row's size: latent positions at the top level and that level's channels. */
export interface UnetShape {
  latentHeight: number;
  latentWidth: number;
  /** `block_out_channels[0]` of the U-Net config. */
  topChannels: number;
}

/** Estimated bytes of working memory one U-Net row (one image, one guidance half) adds to a call. */
export function estimateRowBytes(shape: UnetShape): number {
  return ROW_ACTIVATIONS * shape.latentHeight * shape.latentWidth * shape.topChannels * 4 + ROW_FIXED_BYTES;
}

/**
 * Bytes of the keys and values a lockstep set's reference hands on each step (float32; the token
 * statistics beside them are a few channels' worth and left out): `selfAttentionActivations` of
 * its layout, twice, per reference row.
 */
export function estimateHandedOnBytes(shape: UnetShape & { selfAttentionActivations: number }, rowsPerImage: number): number {
  return 2 * shape.selfAttentionActivations * shape.latentHeight * shape.latentWidth * shape.topChannels * 4 * rowsPerImage;
}

export interface MemoryBudget {
  bytes: number;
  /** Where the number comes from, in words (which rule of batchMemoryBudget applied). */
  source: string;
}

/** How much memory a U-Net batch may take on this provider (see the module comment). */
export function batchMemoryBudget(runtime: Pick<RuntimeOptions, 'provider' | 'memoryLimitMiB'>, system = systemMemory()): MemoryBudget {
  if (runtime.memoryLimitMiB !== undefined) return { bytes: runtime.memoryLimitMiB * 2 ** 20, source: '--memory-limit' };
  if (runtime.provider !== 'cpu') return { bytes: DEVICE_DEFAULT_BYTES, source: `default for the ${runtime.provider} provider (its memory is not known)` };
  const available = system.constrained > 0 ? Math.min(system.free, system.constrained) : system.free;
  return { bytes: CPU_MEMORY_SHARE * available, source: `half of the available system memory` };
}

export function systemMemory(): { free: number; constrained: number } {
  // constrainedMemory() is 0 (or undefined before Node 19.6) without a cgroup limit.
  return { free: freemem(), constrained: process.constrainedMemory?.() ?? 0 };
}

export interface BatchNeeds {
  /** Images of the set, reference included. */
  images: number;
  /** Rows per image: 2 with classifier-free guidance. */
  rowsPerImage: number;
  rowBytes: number;
  /** What a set that needs several batches holds besides one (estimateHandedOnBytes); absent: nothing. */
  handedOnBytes?: number;
}

/** The most images (up to the set and MAX_BATCH_IMAGES) whose rows fit the budget; never under 2 unless the set is 1. */
export function defaultBatchSize(needs: BatchNeeds, budget: MemoryBudget): number {
  const rows = (bytes: number) => Math.floor(bytes / (needs.rowsPerImage * needs.rowBytes));
  const fits = rows(budget.bytes);
  if (needs.images <= Math.min(fits, MAX_BATCH_IMAGES)) return needs.images;
  // Several batches: they run beside what the reference hands on.
  const fitsBeside = rows(budget.bytes - (needs.handedOnBytes ?? 0));
  return Math.max(1, Math.min(needs.images, MAX_BATCH_IMAGES, Math.max(2, fitsBeside)));
}
