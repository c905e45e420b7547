import type { TinyModelOptions } from './options';

/**
 * The variants test/tiny-models.test.ts generates and checks: every option value at least once,
 * seven small models and one large. `npm run bench` times generating them (test fixtures).
 */
export const TEST_SUITE_SET: Record<string, TinyModelOptions> = {
  'sd1 explicit int64-timestep': { family: 'sd1', attention: 'explicit', timestep: 'int64-batch', inputIds: 'int64', vaeEncoderOutput: 'latent_sample' },
  'sd1 sdpa external': { family: 'sd1', weights: 'external' },
  'sd1 fp16': { family: 'sd1', dtype: 'fp16', weights: 'external' },
  'sd2 v-prediction': { family: 'sd2', timestep: 'int64-batch' },
  'sdxl sdpa external': { family: 'sdxl', weights: 'external', vaeEncoderOutput: 'latent_sample' },
  'sdxl explicit turbo': { family: 'sdxl', attention: 'explicit', turbo: true, inputIds: 'int64' },
  'sdxl fp16': { family: 'sdxl', dtype: 'fp16', timestep: 'int64-batch' },
  'sd1 large': { family: 'sd1', size: 'large', weights: 'external' },
};
