/**
 * Errors a user can act on. `code` is stable and machine-readable (it travels in the protocol's
 * job-error message); `message` names the file or field and what was expected.
 */
export class StylesetError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StylesetError';
  }
}

/** A model folder or file that is missing, malformed or not of a supported kind. */
export class ModelError extends StylesetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('model_invalid', message, options);
    this.name = 'ModelError';
  }
}

/** A user-supplied value (option, prompt, file) that is out of range or malformed. */
export class InputError extends StylesetError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_input', message, options);
    this.name = 'InputError';
  }
}

/** A job stopped on request; finished images stay delivered. */
export class CancelledError extends StylesetError {
  constructor(message = 'the job was cancelled') {
    super('cancelled', message);
    this.name = 'CancelledError';
  }
}
