export { prepareLockstepUnet, prepareSharedUnet, type PreparedUnet } from './cache';
export { referenceMap, sharingFeeds, type BatchLayout, type SharingOptions } from './feeds';
export { selectSharedLayers } from './layer-selection';
export { REWRITE_VERSION, rewriteSharedUnet, SHARING_INPUTS, type RewriteResult, type SharedUnetInfo } from './rewrite';
export { referenceBatchFeeds, referenceOutputs, targetBatchFeeds } from './lockstep';
