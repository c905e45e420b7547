import { ModelError } from '../errors';

/**
 * How much a U-Net's self-attention layers hold per image row, from its diffusers config: the
 * sum over every self-attention layer of its tokens x channels, in units of the top level's
 * (latent positions x `block_out_channels[0]`). Each level down halves both sides (a quarter of
 * the tokens) and has that level's channels; a cross-attention down block has `layers_per_block`
 * transformers at its level, an up block one more, the mid block one, each
 * `transformer_layers_per_block` deep, and every transformer block one self-attention. SD 1.5:
 * 8.8125; SDXL: 20. This is what a set's reference hands on per layer (keys, and as much again in
 * values) when its batches run in lockstep.
 */
export function selfAttentionActivations(config: Record<string, unknown>, file: string, xl: boolean): number {
  // A config without the fields is the family's standard U-Net (as topChannels assumes 320);
  // diffusers' own defaults fill in the rest.
  const fallback = xl ? SDXL : SD1;
  const channels = numbers(config.block_out_channels, fallback.block_out_channels, 'block_out_channels', file);
  const levels = channels.length;
  const standard = config.block_out_channels === undefined || config.block_out_channels === null;
  const perLevel = <T>(value: unknown, base: T[], otherwise: T[], key: string, read: (v: unknown, b: T[], k: string, f: string) => T[]) => {
    const list = typeof value === 'number' ? (new Array<number>(levels).fill(value) as T[]) : read(value, standard ? base : otherwise, key, file);
    if (list.length !== levels) throw new ModelError(`${file}: "${key}" has ${list.length} entries for the ${levels} levels of block_out_channels`);
    return list;
  };
  const layers = perLevel(config.layers_per_block, fallback.layers_per_block, new Array<number>(levels).fill(2), 'layers_per_block', numbers);
  const depth = perLevel(config.transformer_layers_per_block, fallback.transformer_layers_per_block, new Array<number>(levels).fill(1), 'transformer_layers_per_block', numbers);
  const down = perLevel(config.down_block_types, fallback.down_block_types, fallback.down_block_types, 'down_block_types', strings);
  const up = perLevel(config.up_block_types, fallback.up_block_types, fallback.up_block_types, 'up_block_types', strings);
  const mid = config.mid_block_type === undefined ? fallback.mid_block_type : String(config.mid_block_type);
  const weight = (level: number) => channels[level] / channels[0] / 4 ** level;
  let total = 0;
  down.forEach((type, level) => {
    if (type.includes('CrossAttn')) total += layers[level] * depth[level] * weight(level);
  });
  up.forEach((type, j) => {
    const level = levels - 1 - j;
    if (type.includes('CrossAttn')) total += (layers[level] + 1) * depth[level] * weight(level);
  });
  if (mid.includes('CrossAttn')) total += depth[levels - 1] * weight(levels - 1);
  return total;
}

const SD1 = {
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: [2, 2, 2, 2],
  transformer_layers_per_block: [1, 1, 1, 1],
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  mid_block_type: 'UNetMidBlock2DCrossAttn',
};

const SDXL = {
  block_out_channels: [320, 640, 1280],
  layers_per_block: [2, 2, 2],
  transformer_layers_per_block: [1, 2, 10],
  down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
  up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
  mid_block_type: 'UNetMidBlock2DCrossAttn',
};

function numbers(value: unknown, fallback: number[], key: string, file: string): number[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'number' && v > 0)) {
    throw new ModelError(`${file}: "${key}" must be a number or a list of positive numbers, got ${JSON.stringify(value)}`);
  }
  return value as number[];
}

function strings(value: unknown, fallback: string[], key: string, file: string): string[] {
  if (value === undefined || value === null) return fallback;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ModelError(`${file}: "${key}" must be a list of block types, got ${JSON.stringify(value)}`);
  return value as string[];
}
