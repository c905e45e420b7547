/**
 * `styleset pull`: ONNX exports from the Hugging Face hub (or a mirror: HF_ENDPOINT) into the
 * data folder's installed models, resumable, verified, installed atomically.
 */
export { CATALOGUE, catalogueEntry, type CatalogueEntry } from './catalogue';
export { DEFAULT_ENDPOINT, hubFromEnv, type HubConnection } from './hub-connection';
export { HubError, type HubErrorCode } from './hub-error';
export type { FreeSpace } from './free-space';
export { parsePullSpec, pullModel, type PullEvent, type PullRequest, type PullResult } from './pull';
