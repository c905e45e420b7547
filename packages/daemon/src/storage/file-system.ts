import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';

/** An open file, as far as the data folder's writers use one. */
export interface WritableFile {
  writeFile(data: string | Uint8Array): Promise<void>;
  /** fsync: the content is on the disk, not only in the page cache. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface EntryInfo {
  name: string;
  isDirectory(): boolean;
}

export interface FileInfo {
  size: number;
  mtimeMs: number;
  mode: number;
  /** Hard links to the file: removing one of several frees nothing. */
  nlink: number;
  /** The file's identity: every link to it has the same. Absent where a file system cannot say. */
  dev?: number;
  ino?: number;
  isDirectory(): boolean;
}

/**
 * The file operations the data folder's stores make, and nothing else: a seam where tests put a
 * file system that fails on cue (a full disk, a crash between two operations, a power cut that
 * drops whatever was not flushed). Production passes `nodeFileSystem`.
 */
export interface FileSystem {
  /** As fs.mkdir: with `recursive`, the first folder it created, if any. */
  mkdir(path: string, options: { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  /** `flags` as fs.open: 'wx' (a new file) for writing, 'r' for a folder to fsync. */
  open(path: string, flags: 'wx' | 'r', mode?: number): Promise<WritableFile>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { recursive?: boolean; force?: boolean }): Promise<void>;
  readdir(path: string): Promise<EntryInfo[]>;
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<FileInfo>;
  chmod(path: string, mode: number): Promise<void>;
  /** Synchronous, for a lookup that must not wait: does the path exist? */
  exists(path: string): boolean;
}

export const nodeFileSystem: FileSystem = {
  mkdir: (path, options) => fs.mkdir(path, options),
  open: (path, flags, mode) => fs.open(path, flags, mode),
  rename: fs.rename,
  rm: fs.rm,
  readdir: (path) => fs.readdir(path, { withFileTypes: true }),
  readFile: fs.readFile,
  stat: fs.stat,
  chmod: fs.chmod,
  exists: existsSync,
};
