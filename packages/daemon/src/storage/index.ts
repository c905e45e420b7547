/**
 * The data folder on disk: writes that survive a crash, errors a user can act on, owner-only
 * folders, and the file system seam the stores take.
 */
export { DRAFT_SUFFIX, makeFolder, syncFolder, writeFileAtomic } from './atomic-write';
export { freedBytes } from './freed-bytes';
export { nodeFileSystem, type EntryInfo, type FileInfo, type FileSystem, type WritableFile } from './file-system';
export { StorageError, storageError } from './storage-error';
export { describeTightened, folderAndSubfolders, makeFoldersPrivate, type Tightened } from './private-folders';
export { formatBytes } from './format-bytes';
