import type { EntryInfo, FileInfo, FileSystem, WritableFile } from '../../../src/storage';

/** An error as Node's fs would raise it, with its errno code. */
export function errnoError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

export type Operation = { op: string; path: string };

/**
 * The real file system, except where `fault` names an errno code for an operation: a full disk
 * or a read-only folder on cue, without filling a disk. Every operation is logged.
 */
export function faultyFileSystem(base: FileSystem, fault: (op: string, path: string) => string | undefined): FileSystem & { log: Operation[] } {
  const log: Operation[] = [];
  const check = (op: string, path: string) => {
    log.push({ op, path });
    const code = fault(op, path);
    if (code !== undefined) throw errnoError(code, op, path);
  };
  return {
    log,
    mkdir: async (path, options) => (check('mkdir', path), base.mkdir(path, options)),
    open: async (path, flags, mode) => {
      check(`open ${flags}`, path);
      const handle = await base.open(path, flags, mode);
      return {
        writeFile: async (data) => (check('write', path), handle.writeFile(data)),
        sync: async () => (check('sync', path), handle.sync()),
        close: async () => (check('close', path), handle.close()),
      };
    },
    rename: async (from, to) => (check('rename', to), base.rename(from, to)),
    rm: async (path, options) => (check('rm', path), base.rm(path, options)),
    readdir: async (path) => (check('readdir', path), base.readdir(path)),
    readFile: async (path) => (check('readFile', path), base.readFile(path)),
    stat: async (path) => (check('stat', path), base.stat(path)),
    chmod: async (path, mode) => (check('chmod', path), base.chmod(path, mode)),
    exists: (path) => base.exists(path),
  };
}

/** Thrown by every operation of a CrashFileSystem from the moment its process "dies". */
export class Crash extends Error {
  constructor() {
    super('the process was killed');
  }
}

class FileNode {
  data = new Uint8Array(0);
  /** The content as of its last fsync; never flushed: nothing (a power cut leaves it empty). */
  durable = new Uint8Array(0);
  mtimeMs = Date.now();
  constructor(public mode: number) {}
}

class DirNode {
  entries = new Map<string, FileNode | DirNode>();
  /** The entries as of its last fsync: names added, renamed or removed since may be undone by a power cut. */
  durable = new Map<string, FileNode | DirNode>();
  mtimeMs = Date.now();
  constructor(public mode: number) {}
}

/**
 * An in-memory file system with the durability rules POSIX promises and no more: a file's content
 * survives a power cut only once the file was fsynced, and a folder's entries (new files, renames,
 * new sub-folders) only once that folder was fsynced. `crashAt(n)` kills the "process" at its n-th
 * operation (a write then lands half its bytes); `powerCut()` then drops everything not flushed.
 */
export class CrashFileSystem implements FileSystem {
  private readonly root = new DirNode(0o755);
  private count = 0;
  private killAt = Number.POSITIVE_INFINITY;
  private dead = false;
  readonly log: Operation[] = [];

  /** Operations so far (each counts once, a write included). */
  get operations(): number {
    return this.count;
  }

  /** The n-th operation from now on (1 = the next) is the last: it fails, and so does every later one. */
  crashAt(n: number): void {
    this.killAt = this.count + n;
  }

  /** A new process on the same disk: the file system works again, as the crash left it. */
  revive(): void {
    this.dead = false;
    this.killAt = Number.POSITIVE_INFINITY;
  }

  /** The machine lost power: every folder and file is what it was when last flushed. */
  powerCut(): void {
    const restore = (dir: DirNode) => {
      dir.entries = new Map(dir.durable);
      for (const node of dir.entries.values()) {
        if (node instanceof DirNode) restore(node);
        else node.data = node.durable.slice();
      }
    };
    restore(this.root);
  }

  /** Every file path under `dir`, for a look at what a crash left. */
  files(dir = '/'): string[] {
    const node = this.lookup(dir);
    if (!(node instanceof DirNode)) return [];
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    return [...node.entries].flatMap(([name, child]) => (child instanceof DirNode ? this.files(`${base}${name}`) : [`${base}${name}`]));
  }

  async mkdir(path: string, { recursive = false, mode = 0o777 }: { recursive?: boolean; mode?: number }): Promise<string | undefined> {
    this.step('mkdir', path);
    const parts = split(path);
    let dir = this.root;
    let first: string | undefined;
    for (const [i, part] of parts.entries()) {
      const child = dir.entries.get(part);
      const here = `/${parts.slice(0, i + 1).join('/')}`;
      if (child instanceof FileNode) throw errnoError('ENOTDIR', 'mkdir', here);
      if (child instanceof DirNode) {
        if (i === parts.length - 1 && !recursive) throw errnoError('EEXIST', 'mkdir', path);
        dir = child;
        continue;
      }
      if (i < parts.length - 1 && !recursive) throw errnoError('ENOENT', 'mkdir', path);
      const made = new DirNode(mode & 0o777);
      dir.entries.set(part, made);
      first ??= here;
      dir = made;
    }
    return recursive ? first : undefined;
  }

  async open(path: string, flags: 'wx' | 'r', mode = 0o666): Promise<WritableFile> {
    this.step(`open ${flags}`, path);
    if (flags === 'r') {
      const node = this.lookup(path);
      if (node === undefined) throw errnoError('ENOENT', 'open', path);
      return {
        writeFile: async () => {
          throw errnoError('EBADF', 'write', path);
        },
        sync: async () => {
          this.step('sync', path);
          if (node instanceof DirNode) node.durable = new Map(node.entries);
          else node.durable = node.data.slice();
        },
        close: async () => this.step('close', path),
      };
    }
    const { dir, name } = this.parent(path, 'open');
    if (dir.entries.has(name)) throw errnoError('EEXIST', 'open', path);
    const file = new FileNode(mode & 0o777);
    dir.entries.set(name, file);
    return {
      writeFile: async (data) => {
        const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
        // A process killed mid-write leaves part of what it was writing.
        if (this.count + 1 === this.killAt) file.data = bytes.slice(0, Math.floor(bytes.length / 2));
        this.step('write', path);
        file.data = bytes.slice();
        file.mtimeMs = Date.now();
      },
      sync: async () => {
        this.step('sync', path);
        file.durable = file.data.slice();
      },
      close: async () => this.step('close', path),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.step('rename', to);
    const source = this.parent(from, 'rename');
    const node = source.dir.entries.get(source.name);
    if (node === undefined) throw errnoError('ENOENT', 'rename', from);
    const target = this.parent(to, 'rename');
    source.dir.entries.delete(source.name);
    target.dir.entries.set(target.name, node);
  }

  async rm(path: string, { recursive = false, force = false }: { recursive?: boolean; force?: boolean }): Promise<void> {
    this.step('rm', path);
    const node = this.lookup(path);
    if (node === undefined) {
      if (force) return;
      throw errnoError('ENOENT', 'rm', path);
    }
    if (node instanceof DirNode && !recursive) throw errnoError('EISDIR', 'rm', path);
    const { dir, name } = this.parent(path, 'rm');
    dir.entries.delete(name);
  }

  async readdir(path: string): Promise<EntryInfo[]> {
    this.step('readdir', path);
    const node = this.lookup(path);
    if (node === undefined) throw errnoError('ENOENT', 'scandir', path);
    if (!(node instanceof DirNode)) throw errnoError('ENOTDIR', 'scandir', path);
    return [...node.entries].map(([name, child]) => ({ name, isDirectory: () => child instanceof DirNode }));
  }

  async readFile(path: string): Promise<Uint8Array> {
    this.step('readFile', path);
    const node = this.lookup(path);
    if (node === undefined) throw errnoError('ENOENT', 'open', path);
    if (node instanceof DirNode) throw errnoError('EISDIR', 'read', path);
    return node.data.slice();
  }

  async stat(path: string): Promise<FileInfo> {
    this.step('stat', path);
    const node = this.lookup(path);
    if (node === undefined) throw errnoError('ENOENT', 'stat', path);
    const isDirectory = node instanceof DirNode;
    return { size: isDirectory ? 0 : node.data.length, mtimeMs: node.mtimeMs, mode: node.mode, nlink: 1, isDirectory: () => isDirectory };
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.step('chmod', path);
    const node = this.lookup(path);
    if (node === undefined) throw errnoError('ENOENT', 'chmod', path);
    node.mode = mode;
  }

  exists(path: string): boolean {
    return this.lookup(path) !== undefined;
  }

  private step(op: string, path: string): void {
    if (this.dead) throw new Crash();
    this.count += 1;
    this.log.push({ op, path });
    if (this.count === this.killAt) {
      this.dead = true;
      throw new Crash();
    }
  }

  private lookup(path: string): FileNode | DirNode | undefined {
    let node: FileNode | DirNode | undefined = this.root;
    for (const part of split(path)) {
      if (!(node instanceof DirNode)) return undefined;
      node = node.entries.get(part);
    }
    return node;
  }

  private parent(path: string, syscall: string): { dir: DirNode; name: string } {
    const parts = split(path);
    const name = parts.pop()!;
    const dir = this.lookup(`/${parts.join('/')}`);
    if (!(dir instanceof DirNode)) throw errnoError('ENOENT', syscall, path);
    return { dir, name };
  }
}

/** Path segments, whichever separator the platform's `join` used. */
function split(path: string): string[] {
  return path.split(/[\\/]+/).filter((part) => part !== '' && part !== '.');
}
