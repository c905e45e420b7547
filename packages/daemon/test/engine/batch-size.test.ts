import { describe, expect, it } from 'vitest';
import {
  batchMemoryBudget,
  CPU_MEMORY_SHARE,
  defaultBatchSize,
  DEVICE_DEFAULT_BYTES,
  estimateHandedOnBytes,
  estimateRowBytes,
  MAX_BATCH_IMAGES,
} from '../../src/engine/batch-size';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('memory per U-Net row', () => {
  it('is 56 float32 activations per top-level latent position and channel, plus 2 MiB', () => {
    // SD 1.5 at 512x512: 64x64 latents, 320 channels at the top level.
    expect(estimateRowBytes({ latentHeight: 64, latentWidth: 64, topChannels: 320 })).toBe(56 * 64 * 64 * 320 * 4 + 2 * MiB);
    // Twice the positions, twice the activations; the fixed part stays.
    const small = estimateRowBytes({ latentHeight: 32, latentWidth: 32, topChannels: 64 });
    const wide = estimateRowBytes({ latentHeight: 32, latentWidth: 64, topChannels: 64 });
    expect(wide - 2 * MiB).toBe(2 * (small - 2 * MiB));
  });
});

describe("what a lockstep set's reference hands on", () => {
  it('is its keys and values: twice the self-attention activations, per reference row, in float32', () => {
    // SDXL at 1024x1024 with guidance: 128x128 latents, 320 top channels, 20 (unet-attention.ts).
    expect(estimateHandedOnBytes({ latentHeight: 128, latentWidth: 128, topChannels: 320, selfAttentionActivations: 20 }, 2)).toBe(2 * 20 * 128 * 128 * 320 * 4 * 2);
    expect(estimateHandedOnBytes({ latentHeight: 128, latentWidth: 128, topChannels: 320, selfAttentionActivations: 20 }, 2) / GiB).toBeCloseTo(1.5625, 4);
    expect(estimateHandedOnBytes({ latentHeight: 64, latentWidth: 64, topChannels: 320, selfAttentionActivations: 8.8125 }, 1)).toBe(2 * 8.8125 * 64 * 64 * 320 * 4);
  });
});

describe('the memory a batch may take', () => {
  it('on the CPU: half the available memory, capped by a cgroup limit when there is one', () => {
    expect(batchMemoryBudget({ provider: 'cpu' }, { free: 8 * GiB, constrained: 0 }).bytes).toBe(CPU_MEMORY_SHARE * 8 * GiB);
    expect(batchMemoryBudget({ provider: 'cpu' }, { free: 8 * GiB, constrained: 2 * GiB }).bytes).toBe(1 * GiB);
    // Node reports "no limit" as a huge number.
    expect(batchMemoryBudget({ provider: 'cpu' }, { free: 8 * GiB, constrained: 2 ** 64 }).bytes).toBe(4 * GiB);
  });

  it('on other providers a fixed default, and --memory-limit wherever it is given', () => {
    expect(batchMemoryBudget({ provider: 'cuda' }, { free: 64 * GiB, constrained: 0 }).bytes).toBe(DEVICE_DEFAULT_BYTES);
    expect(batchMemoryBudget({ provider: 'webgpu' }, { free: 64 * GiB, constrained: 0 }).source).toContain('webgpu');
    expect(batchMemoryBudget({ provider: 'cpu', memoryLimitMiB: 300 }, { free: 64 * GiB, constrained: 0 }).bytes).toBe(300 * MiB);
    expect(batchMemoryBudget({ provider: 'cuda', memoryLimitMiB: 6000 }, { free: 1 * GiB, constrained: 0 })).toEqual({ bytes: 6000 * MiB, source: '--memory-limit' });
  });
});

describe('default batch size', () => {
  const budget = (bytes: number) => ({ bytes, source: 'test' });

  it('takes as many images as their rows fit, up to the set and 17 images', () => {
    expect(MAX_BATCH_IMAGES).toBe(17);
    // 100 MiB per row, guided (2 rows per image): 1000 MiB hold 5 images.
    expect(defaultBatchSize({ images: 10, rowsPerImage: 2, rowBytes: 100 * MiB }, budget(1000 * MiB))).toBe(5);
    expect(defaultBatchSize({ images: 10, rowsPerImage: 2, rowBytes: 100 * MiB }, budget(999 * MiB))).toBe(4);
    // Unguided rows: twice as many images.
    expect(defaultBatchSize({ images: 20, rowsPerImage: 1, rowBytes: 100 * MiB }, budget(1000 * MiB))).toBe(10);
    expect(defaultBatchSize({ images: 3, rowsPerImage: 2, rowBytes: 100 * MiB }, budget(1000 * MiB))).toBe(3);
    expect(defaultBatchSize({ images: 33, rowsPerImage: 2, rowBytes: 1 * MiB }, budget(10 * GiB))).toBe(17);
  });

  it("leaves a lockstep set's batches the budget less what the reference hands on, and a set that fits one batch all of it", () => {
    const needs = { images: 10, rowsPerImage: 2, rowBytes: 100 * MiB, handedOnBytes: 350 * MiB };
    // Several batches: 1000 - 350 MiB hold 3 images' rows (600 MiB), not 5.
    expect(defaultBatchSize(needs, budget(1000 * MiB))).toBe(3);
    expect(defaultBatchSize(needs, budget(1150 * MiB))).toBe(4);
    // One batch of all ten fits 2000 MiB: nothing is handed on, so nothing is taken off.
    expect(defaultBatchSize(needs, budget(2000 * MiB))).toBe(10);
    expect(defaultBatchSize({ ...needs, images: 5 }, budget(1000 * MiB))).toBe(5);
    // More than the budget handed on: still the reference and one image.
    expect(defaultBatchSize({ ...needs, handedOnBytes: 2 * GiB }, budget(1000 * MiB))).toBe(2);
  });

  it('never goes under 2 (the reference and one image) unless the set is one image', () => {
    expect(defaultBatchSize({ images: 10, rowsPerImage: 2, rowBytes: 1 * GiB }, budget(100 * MiB))).toBe(2);
    expect(defaultBatchSize({ images: 1, rowsPerImage: 2, rowBytes: 1 * GiB }, budget(100 * MiB))).toBe(1);
  });
});
