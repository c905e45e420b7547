import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StylesetError } from '../errors';
import { formatNpy, parseNpy } from '../image/npy';
import type { FloatTensor } from '../model/tensor';
import { makeFolder, nodeFileSystem, storageError, writeFileAtomic } from '../storage';
import {
  MANIFEST_FILE,
  REFERENCE_FILE,
  parseManifest,
  sha256Hex,
  trajectoryFile,
  type StyleManifest,
  type TrajectoryParams,
} from './style-record';

/** A style as it is kept: its folder and what its manifest says. */
export interface StoredStyle {
  dir: string;
  manifest: StyleManifest;
}

/** Folders being built (an import, a save) or deleted: never read as styles, swept when a crash left them. */
const STAGING_PREFIX = '.staging-';
const REMOVED_PREFIX = '.removed-';
/** A staging folder this old was left by a crash, not by a save still under way. */
const STALE_STAGING_MS = 60 * 60 * 1000;

/** The folder of saved styles in a data folder. */
export function stylesDir(dataDir: string): string {
  return join(dataDir, 'styles');
}

/**
 * Saved styles in the data folder: `styles/<name>/` holding style.json, reference.png and
 * trajectories/<key>.npy, the same files an exported archive holds. A style is built in a staging
 * folder and renamed into place, so it is there whole or not at all; a deleted one is renamed
 * away first. Files are owner-only, as everything the daemon writes with the user's content.
 */
export class StyleStore {
  /** Trajectory writes, one at a time, so that two never rewrite one manifest from the same old version. */
  private writes = Promise.resolve();

  constructor(
    readonly dataDir: string,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  get dir(): string {
    return stylesDir(this.dataDir);
  }

  /** Every style, by name; a folder that is not a readable style is skipped with a warning. */
  async list(): Promise<StoredStyle[]> {
    await this.sweep();
    const styles: StoredStyle[] = [];
    for (const name of (await this.names()).sort()) {
      try {
        styles.push(await this.read(name));
      } catch (error) {
        this.warn(`skipping ${join(this.dir, name)}: ${(error as Error).message}`);
      }
    }
    return styles;
  }

  /** The style of that name, or `style_not_found` listing the names there are. */
  async get(name: string): Promise<StoredStyle> {
    const style = await this.find(name);
    if (style !== undefined) return style;
    const names = await this.names();
    throw new StylesetError(
      'style_not_found',
      `no style ${JSON.stringify(name)} in ${this.dir}; ${names.length === 0 ? 'there are none yet (`styleset style save` makes one)' : `there are ${names.sort().join(', ')}`}`,
    );
  }

  async find(name: string): Promise<StoredStyle | undefined> {
    try {
      await stat(join(this.dir, name, MANIFEST_FILE));
    } catch {
      return undefined;
    }
    return this.read(name);
  }

  /** A new folder to build a style in; `install` moves it into place. */
  async staging(): Promise<string> {
    const dir = join(this.dir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
    await this.guard(dir, () => makeFolder(nodeFileSystem, dir));
    return dir;
  }

  /** Writes a file into a staging folder (or a style's folder), crash-safe and owner-only. */
  async writeFile(dir: string, name: string, data: string | Uint8Array): Promise<void> {
    const file = join(dir, name);
    await this.guard(file, async () => {
      if (name.includes('/')) await makeFolder(nodeFileSystem, join(dir, name.slice(0, name.lastIndexOf('/'))));
      await writeFileAtomic(nodeFileSystem, file, data);
    });
  }

  /**
   * A new style from its manifest (with its reference listed) and reference PNG, built in staging
   * and moved into place. Without `replace`, a taken name is `style_exists`.
   */
  async create(manifest: StyleManifest, referencePng: Uint8Array, { replace = false } = {}): Promise<StoredStyle> {
    const staging = await this.staging();
    try {
      await this.writeFile(staging, REFERENCE_FILE, referencePng);
      await this.writeFile(staging, MANIFEST_FILE, manifestText(manifest));
      return await this.install(staging, manifest.name, { replace });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** Moves a complete staging folder into place under `name`: one rename, so a reader sees all of it or none. */
  async install(staging: string, name: string, { replace = false } = {}): Promise<StoredStyle> {
    const target = join(this.dir, name);
    let old: string | undefined;
    if (await this.find(name).catch(() => true)) {
      if (!replace) throw new StylesetError('style_exists', `a style named ${JSON.stringify(name)} exists already; choose another name, or replace it`);
      old = join(this.dir, `${REMOVED_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
      await this.guard(target, () => rename(target, old!));
    }
    try {
      await this.guard(target, () => rename(staging, target));
    } catch (error) {
      const code = (error as { cause?: NodeJS.ErrnoException }).cause?.code ?? (error as NodeJS.ErrnoException).code;
      if (old !== undefined) await rename(old, target).catch(() => undefined);
      // Another save took the name meanwhile.
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new StylesetError('style_exists', `a style named ${JSON.stringify(name)} was saved meanwhile; choose another name, or replace it`);
      throw error;
    }
    if (old !== undefined) await rm(old, { recursive: true, force: true });
    return this.read(name);
  }

  /** Deletes a style: renamed out of the way in one step, then removed. */
  async remove(name: string): Promise<void> {
    await this.get(name);
    const doomed = join(this.dir, `${REMOVED_PREFIX}${name}-${randomBytes(4).toString('hex')}`);
    await this.guard(join(this.dir, name), () => rename(join(this.dir, name), doomed));
    await rm(doomed, { recursive: true, force: true });
  }

  /** The reference PNG, checked against the manifest. */
  async reference(style: StoredStyle): Promise<Uint8Array> {
    const file = join(style.dir, REFERENCE_FILE);
    const bytes = await readFile(file).catch((cause) => {
      throw new StylesetError('invalid_input', `style ${style.manifest.name}: its reference image ${file} cannot be read`, { cause });
    });
    if (sha256Hex(bytes) !== style.manifest.reference.sha256) {
      throw new StylesetError('invalid_input', `style ${style.manifest.name}: ${file} is not the reference it was saved with (its SHA-256 differs); it was changed on disk`);
    }
    return bytes;
  }

  /** The kept trajectory for these parameters, when there is one and it is intact. */
  async trajectory(style: StoredStyle, params: TrajectoryParams): Promise<FloatTensor | undefined> {
    const name = trajectoryFile(params);
    const entry = style.manifest.trajectories.find((t) => t.file === name);
    if (entry === undefined) return undefined;
    const file = join(style.dir, name);
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes === undefined || bytes.length !== entry.bytes || sha256Hex(bytes) !== entry.sha256) {
      this.warn(`style ${style.manifest.name}: ${file} is missing or changed; the reference is inverted again`);
      return undefined;
    }
    return parseNpy(bytes, file);
  }

  /**
   * Keeps a trajectory with the style, and lists it in its manifest. Only in the style it was made
   * for: one deleted or replaced meanwhile (another `createdAt`) is left alone.
   */
  async addTrajectory(name: string, createdAt: string, params: TrajectoryParams, trajectory: FloatTensor): Promise<void> {
    const write = this.writes.then(async () => {
      const style = await this.find(name);
      if (style === undefined || style.manifest.createdAt !== createdAt) return;
      const bytes = formatNpy(trajectory);
      const file = trajectoryFile(params);
      await this.writeFile(style.dir, file, bytes);
      const trajectories = [...style.manifest.trajectories.filter((t) => t.file !== file), { ...params, file, bytes: bytes.length, sha256: sha256Hex(bytes) }];
      await this.writeFile(style.dir, MANIFEST_FILE, manifestText({ ...style.manifest, trajectories }));
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async read(name: string): Promise<StoredStyle> {
    const dir = join(this.dir, name);
    const file = join(dir, MANIFEST_FILE);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new StylesetError('invalid_input', `${file} cannot be read as JSON: ${(error as Error).message}`);
    }
    const manifest = parseManifest(json, file);
    if (manifest.name !== name) throw new StylesetError('invalid_input', `${file} is the manifest of style ${manifest.name}, not of ${name}`);
    return { dir, manifest };
  }

  private async names(): Promise<string[]> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  }

  /** Removes what a crash left: folders half deleted, and staging folders nobody finished. */
  private async sweep(): Promise<void> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(this.dir, entry.name);
      if (entry.name.startsWith(REMOVED_PREFIX)) await rm(path, { recursive: true, force: true });
      if (entry.name.startsWith(STAGING_PREFIX)) {
        const age = Date.now() - (await stat(path).then((s) => s.mtimeMs, () => Date.now()));
        if (age > STALE_STAGING_MS) await rm(path, { recursive: true, force: true });
      }
    }
  }

  /** A file-system failure said in the data folder's terms (full, not writable). */
  private async guard<T>(file: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw storageError(error, this.dataDir, file);
    }
  }
}

export function manifestText(manifest: StyleManifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

