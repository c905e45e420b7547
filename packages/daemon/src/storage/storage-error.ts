import { relative } from 'node:path';
import { StylesetError } from '../errors';

/** How to point the daemon at another data folder, said the same way in every message. */
const MOVE = 'move the data folder with --data-dir or STYLESET_DATA_DIR';

const FULL: Record<string, string> = { ENOSPC: 'no space left on its disk', EDQUOT: 'the disk quota is used up' };
const DENIED: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system' };

/** The data folder cannot take a write: full (`disk_full`) or not writable (`storage_unwritable`). */
export class StorageError extends StylesetError {
  constructor(code: 'disk_full' | 'storage_unwritable', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StorageError';
  }
}

/**
 * A failed write in the data folder, said so that a user can act on it: which folder, what the
 * file system answered, what to do. Other errors come back unchanged. The file is named relative to
 * the folder, so the message names the folder the user chose, not an internal path.
 */
export function storageError(error: unknown, dataDir: string, file: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error;
  const writing = `writing ${relative(dataDir, file) || file}`;
  if (code in FULL) {
    return new StorageError(
      'disk_full',
      `the data folder ${dataDir} is full (${code}, ${FULL[code]}, ${writing}): free space on that disk, or ${MOVE}; results already stored are kept`,
      { cause: error },
    );
  }
  if (code in DENIED) {
    return new StorageError(
      'storage_unwritable',
      `cannot write in the data folder ${dataDir} (${code}, ${DENIED[code]}, ${writing}): make it writable for the user running the daemon, or ${MOVE}`,
      { cause: error },
    );
  }
  return error;
}
