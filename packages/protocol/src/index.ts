export { DEFAULT_DAEMON_URL, DEFAULT_PORT, PROTOCOL_VERSION } from './version';
export { LIMITS, type Limits } from './limits';
export { ERROR_CODES, type ErrorCode, type ProtocolError } from './errors';
export { IMAGE_MIME_TYPES, type Attachment, type ImageMimeType } from './fields';
export { MODEL_KINDS, modelInfoSchema, recommendedStyleAlignedSchema, type ModelInfo, type ModelKind, type RecommendedStyleAligned } from './models';
export {
  JOB_KINDS,
  JOB_STATES,
  PHASES,
  SCHEDULERS,
  type JobKind,
  type JobState,
  type Phase,
  type Scheduler,
} from './jobs';
export {
  imageStyleOptionsSchema,
  inversionOptionsSchema,
  referenceOptionsSchema,
  setOptionsSchema,
  type ImageStyleOptions,
  type InversionOptions,
  type JobOptions,
  type ReferenceOptions,
  type SetOptions,
} from './options';
export {
  REFERENCE_IMAGE_DEFAULTS,
  STYLE_ALIGNED_DEFAULTS,
  VECTOR_DEFAULTS,
  referenceSampling,
  resolveOptions,
  type ResolvedOptions,
} from './defaults';
export {
  BACKGROUND_MODES,
  OUTPUT_FORMATS,
  PALETTE_SCOPES,
  RESULT_FORMATS,
  RESULT_MIME,
  VECTOR_LIMITS,
  type BackgroundMode,
  type OutputFormat,
  type PaletteScope,
  type ResultFormat,
  type VectorSummary,
} from './vector';
export {
  STYLE_KINDS,
  STYLE_LIMITS,
  setIndexSchema,
  styleInfoSchema,
  styleKindSchema,
  styleNameSchema,
  styleOptionsSchema,
  unetSha256Schema,
  type StyleInfo,
  type StyleKind,
  type StyleOptions,
} from './styles';
export {
  clientMessageSchemas,
  type ClientMessage,
  type ClientMessageOf,
  type ClientMessageType,
  type SubmitMessage,
} from './messages/client';
export {
  daemonMessageSchemas,
  type DaemonMessage,
  type DaemonMessageOf,
  type DaemonMessageType,
} from './messages/daemon';
export {
  decodeClientMessage,
  decodeDaemonMessage,
  encodeMessage,
  type DecodeResult,
  type Frame,
  type Message,
} from './framing';
