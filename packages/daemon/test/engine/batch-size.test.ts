import { describe, expect, it } from 'vitest';
import { defaultBatchSize, MAX_BATCH_IMAGES } from '../../src/engine/batch-size';

describe('default batch size', () => {
  it('takes the whole set up to 17 images, fewer for large images, never under 2 unless the set is 1', () => {
    expect(MAX_BATCH_IMAGES).toBe(17);
    expect(defaultBatchSize(64 * 64, 5)).toBe(5);
    expect(defaultBatchSize(64 * 64, 33)).toBe(17);
    expect(defaultBatchSize(512 * 512, 10)).toBe(4);
    expect(defaultBatchSize(768 * 768, 10)).toBe(2);
    expect(defaultBatchSize(1024 * 1024, 5)).toBe(2);
    expect(defaultBatchSize(2048 * 2048, 5)).toBe(2);
    expect(defaultBatchSize(512 * 512, 1)).toBe(1);
  });
});
