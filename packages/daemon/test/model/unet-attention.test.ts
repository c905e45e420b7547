import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors';
import { selfAttentionActivations } from '../../src/model/unet-attention';

describe("a U-Net's self-attention activations per image row, in top-level activations", () => {
  it('are those of the standard SD 1.x and SDXL U-Nets without a config', () => {
    // SD 1.5: down levels 0-2 two layers each, mid one at level 3, up levels 2-0 three each;
    // level l weighs channels[l]/320 / 4^l: 2 + 2*2/4 + 2*4/16 + 4/64 + 3*4/16 + 3*2/4 + 3.
    expect(selfAttentionActivations({}, 'unet/config.json', false)).toBe(8.8125);
    // SDXL: level 1 depth 2, level 2 depth 10: 2*2*2/4 + 2*10*4/16 + 10*4/16 + 3*10*4/16 + 3*2*2/4.
    expect(selfAttentionActivations({}, 'unet/config.json', true)).toBe(20);
  });

  it("follow the config: the embedded model's, and per-level transformer depths", () => {
    const embedded = JSON.parse(readFileSync(new URL('../../models/default/unet/config.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    // [32, 64, 64], one layer per block: level 0 1, level 1 1*2/4, mid 1*2/16, up level 1 2*2/4, up level 0 2.
    expect(selfAttentionActivations(embedded, 'unet/config.json', false)).toBe(4.75);
    const config = {
      block_out_channels: [64, 128],
      layers_per_block: [1, 2],
      transformer_layers_per_block: [2, 3],
      down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
      mid_block_type: 'UNetMidBlock2D',
    };
    // down: 1*2*1 + 2*3*(2/4); up level 1: (2+1)*3*(2/4); no mid attention.
    expect(selfAttentionActivations(config, 'unet/config.json', false)).toBe(2 + 3 + 4.5);
  });

  it('names the file and the field that does not fit', () => {
    expect(() => selfAttentionActivations({ block_out_channels: [64, 128], layers_per_block: [1, 2, 3] }, 'm/unet/config.json', false)).toThrow(
      new ModelError('m/unet/config.json: "layers_per_block" has 3 entries for the 2 levels of block_out_channels'),
    );
    expect(() => selfAttentionActivations({ block_out_channels: 'wide' }, 'm/unet/config.json', false)).toThrow(/m\/unet\/config.json: "block_out_channels" must be/);
  });
});
