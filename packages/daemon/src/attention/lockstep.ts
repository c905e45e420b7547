/**
 * The run-time inputs of the lockstep U-Net (lockstep-graph.ts) for the two kinds of batch of a
 * set larger than one batch: the one that holds the reference and hands its tensors on, and
 * those of targets only that read them.
 */
import type { Feed, FloatTensor } from '../model/tensor';
import { sharingFeeds, type BatchLayout, type SharingOptions } from './feeds';
import { EXTERNAL_REFERENCE_INPUT, referenceOutputName, referenceTensorNames } from './lockstep-graph';
import { SHARING_INPUTS, type SharedUnetInfo } from './rewrite';

/** The outputs to fetch from the batch that holds the reference. */
export function referenceOutputs(unet: SharedUnetInfo): string[] {
  return referenceTensorNames(unet.layerCount, unet.groupNormCount).map(referenceOutputName);
}

/** The batch that holds the reference (led by it, as one batch is): the one-batch inputs, nothing given. */
export function referenceBatchFeeds(options: SharingOptions, unet: SharedUnetInfo, layout: BatchLayout): Record<string, Feed> {
  const feeds = sharingFeeds(options, unet, layout);
  feeds[EXTERNAL_REFERENCE_INPUT] = { ints: new Int32Array([0]), dims: [1] };
  for (const name of referenceTensorNames(unet.layerCount, unet.groupNormCount)) feeds[name] = { data: new Float32Array(0), dims: [0, 0, 0] };
  return feeds;
}

/**
 * A batch of `layout.images` targets of the reference whose tensors `handedOn` holds (the outputs
 * of referenceOutputs, by name): with guidance, the unconditional half takes row 0 of them and the
 * conditional half row 1, as in one batch each half shares with its own reference row.
 */
export function targetBatchFeeds(
  options: SharingOptions,
  unet: SharedUnetInfo,
  layout: Pick<BatchLayout, 'images' | 'guided'>,
  handedOn: Readonly<Record<string, FloatTensor>>,
): Record<string, Feed> {
  const feeds = sharingFeeds(options, unet, { images: layout.images, guided: layout.guided });
  const halves = layout.guided ? 2 : 1;
  feeds[SHARING_INPUTS.refIndex] = { ints: Int32Array.from({ length: halves * layout.images }, (_, i) => Math.floor(i / layout.images)), dims: [halves * layout.images] };
  feeds[EXTERNAL_REFERENCE_INPUT] = { ints: new Int32Array([1]), dims: [1] };
  for (const name of referenceTensorNames(unet.layerCount, unet.groupNormCount)) {
    const tensor = handedOn[referenceOutputName(name)];
    if (!tensor) throw new Error(`the reference's batch handed on no ${referenceOutputName(name)}`);
    feeds[name] = tensor;
  }
  return feeds;
}
