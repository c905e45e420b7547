import { ERROR_CODES, type ErrorCode, type ProtocolError } from '@styleset/protocol';
import { StylesetError } from '../errors';

/** A request the daemon refuses; becomes an `error` (or a `job_error`) naming the field to fix. */
export class RequestError extends StylesetError {
  constructor(
    override readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
    this.name = 'RequestError';
  }
}

const MAX_MESSAGE = 2000;

/**
 * What a client is told about any failure: a `StylesetError`'s own code when the protocol has it,
 * else `internal` with the message, so a broken model or a full disk is still explained.
 */
export function toProtocolError(error: unknown): ProtocolError {
  const known = error instanceof StylesetError && (ERROR_CODES as readonly string[]).includes(error.code);
  const code = known ? (error.code as ErrorCode) : 'internal';
  const text = error instanceof Error ? error.message : String(error);
  const message = (text || 'unknown error').slice(0, MAX_MESSAGE);
  // RequestError, and the styles' StyleRequestError, name the field to fix.
  const named = error instanceof StylesetError ? (error as StylesetError & { field?: unknown }).field : undefined;
  const field = typeof named === 'string' ? named : undefined;
  return field === undefined ? { code, message } : { code, message, field };
}
