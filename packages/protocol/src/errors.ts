import * as z from 'zod';

/**
 * Stable, machine-readable error codes: clients branch on these, never on message text.
 * Adding a code is compatible; renaming or removing one is a protocol version bump.
 */
export const ERROR_CODES = [
  /** No `hello` yet, or its pairing token is wrong. */
  'unauthorized',
  /** The peer speaks another protocol version; the message names both. */
  'version_mismatch',
  /** Not JSON, not an object, a missing/mistyped/unknown field, or a malformed binary frame. */
  'bad_message',
  /** `type` names no message of this direction. */
  'unknown_type',
  /** A frame, header or attached image over its limit. */
  'too_large',
  /** A job option that is unknown, mistyped or out of range; `field` is `options.<name>`. */
  'invalid_option',
  /** Well-formed content the daemon cannot use, e.g. a reference image it cannot decode. */
  'invalid_input',
  'model_not_found',
  /** A model folder or file that is missing parts or is of an unsupported kind. */
  'model_invalid',
  'queue_full',
  /** Every paired connection the daemon allows is busy (waiting on a job or a reply). */
  'too_many_connections',
  'job_not_found',
  /** No saved style of that name. */
  'style_not_found',
  /** `save_style` without `replace` for a name that is taken. */
  'style_exists',
  /** A style's model is here under its id but its U-Net is not the one the style was made on. */
  'model_mismatch',
  'cancelled',
  /** The daemon stopped while the job ran; it will not resume. */
  'interrupted',
  /** The daemon's data folder is out of space (or quota); the message names the folder and what to do. */
  'disk_full',
  /** The daemon cannot write in its data folder (permissions, a read-only file system); the message names it. */
  'storage_unwritable',
  'internal',
] as const;

export const errorCodeSchema = z.enum(ERROR_CODES);

export type ErrorCode = z.infer<typeof errorCodeSchema>;

/** What went wrong, shared by decode failures, `error`, `job_error` and a failed job's `status`. */
export const protocolErrorShape = {
  code: errorCodeSchema,
  message: z.string().min(1).max(2000),
  /** Dotted path of the offending field, e.g. `options.steps` or `prompts.3`. */
  field: z.string().min(1).max(256).optional(),
};

export const protocolErrorSchema = z.strictObject(protocolErrorShape);

export type ProtocolError = z.infer<typeof protocolErrorSchema>;
