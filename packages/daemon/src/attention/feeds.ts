/**
 * The run-time inputs of a rewritten U-Net (see rewrite.ts) for one batch and one option set.
 */
import type { ResolvedOptions } from '@styleset/protocol';
import { InputError } from '../errors';
import type { Feed } from '../model/tensor';
import { selectSharedLayers } from './layer-selection';
import { SHARING_INPUTS, type SharedUnetInfo } from './rewrite';

/**
 * StyleAligned's options as the protocol names them. `shareLayerNorm` changes nothing: the
 * reference implementation concatenates tokens before LayerNorms, whose statistics are per token.
 */
export type SharingOptions = Pick<
  ResolvedOptions,
  | 'shareAttention'
  | 'adainQueries'
  | 'adainKeys'
  | 'adainValues'
  | 'sharedScoreScale'
  | 'sharedScoreShift'
  | 'onlySelfLevel'
  | 'fullAttentionShare'
  | 'shareGroupNorm'
  | 'shareLayerNorm'
>;

export interface BatchLayout {
  /** Images in the batch (one CFG half when guided). */
  images: number;
  /** With guidance the batch is [uncond_0..uncond_{n-1}, cond_0..cond_{n-1}]. */
  guided: boolean;
  /** Sizes of independent sets laid out one after another in each half, each led by its reference; default one set. */
  sets?: readonly number[];
}

/**
 * ref(i) for a batch of sets laid out one after another, each led by its reference, repeated
 * for the conditional half when guided: e.g. sets [3, 2] guided give [0,0,0,3,3, 5,5,5,8,8].
 */
export function referenceMap(setSizes: readonly number[], guided: boolean): Int32Array {
  if (setSizes.length === 0 || setSizes.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new InputError(`set sizes must be positive integers, got [${setSizes.join(', ')}]`);
  }
  const half = setSizes.reduce((a, b) => a + b, 0);
  const map = new Int32Array(guided ? 2 * half : half);
  for (let start = 0; start < map.length; start += half) {
    let reference = start;
    for (const size of setSizes) {
      map.fill(reference, reference, reference + size);
      reference += size;
    }
  }
  return map;
}

/** Every run-time input for one batch; `null` options reproduce the original U-Net. */
export function sharingFeeds(options: SharingOptions | null, unet: SharedUnetInfo, layout: BatchLayout): Record<string, Feed> {
  if (!Number.isInteger(layout.images) || layout.images < 1) throw new InputError(`a batch needs at least one image, got ${layout.images}`);
  const sets = layout.sets ?? [layout.images];
  if (sets.reduce((a, b) => a + b, 0) !== layout.images) {
    throw new InputError(`set sizes [${sets.join(', ')}] do not add up to the batch's ${layout.images} images`);
  }
  const refs = referenceMap(sets, layout.guided);
  const ints = (values: ArrayLike<number>): Feed => ({ ints: Int32Array.from(values), dims: [values.length] });
  const float = (value: number): Feed => ({ data: new Float32Array([value]), dims: [1] });
  const on = options !== null;
  const attention =
    on && (options.shareAttention || options.adainQueries || options.adainKeys || options.adainValues || options.fullAttentionShare);
  if (on) checkOptions(options, sets);
  const feeds: Record<string, Feed> = {
    [SHARING_INPUTS.layerOn]: ints(
      attention ? selectSharedLayers(unet.layerCount, options.onlySelfLevel).map(Number) : new Array(unet.layerCount).fill(0),
    ),
    [SHARING_INPUTS.refIndex]: ints(on ? refs : refs.map((_, i) => i)),
    [SHARING_INPUTS.shareAttention]: ints([on && options.shareAttention ? 1 : 0]),
    [SHARING_INPUTS.adain]: ints(on ? [options.adainQueries, options.adainKeys, options.adainValues].map(Number) : [0, 0, 0]),
    [SHARING_INPUTS.scoreScale]: float(on ? options.sharedScoreScale : 1),
    [SHARING_INPUTS.scoreShift]: float(on ? options.sharedScoreShift : 0),
    [SHARING_INPUTS.fullShareSize]: ints([on && options.fullAttentionShare ? sets[0] : 0]),
  };
  if (unet.groupNormCount > 0) feeds[SHARING_INPUTS.groupNormOn] = ints([on && options.shareGroupNorm ? 1 : 0]);
  return feeds;
}

function checkOptions(options: SharingOptions, sets: readonly number[]): void {
  for (const name of ['sharedScoreScale', 'sharedScoreShift'] as const) {
    if (!Number.isFinite(options[name])) throw new InputError(`${name} must be a finite number, got ${options[name]}`);
  }
  // Full sharing merges consecutive groups of one size; the sets must be those groups.
  if (options.fullAttentionShare && sets.some((size) => size !== sets[0])) {
    throw new InputError(`fullAttentionShare needs sets of one size in a batch, got [${sets.join(', ')}]`);
  }
}
