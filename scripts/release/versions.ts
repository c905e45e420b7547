import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The project's version lives in one place, the root package.json. Every workspace carries it too
 * (npm needs a version per package, and the pins between workspaces name it): `versionMismatches`
 * lists where they differ, `setVersion` writes one version everywhere (manifests, pins, lockfile).
 */

interface Manifest {
  name: string;
  version: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface Mismatch {
  /** Relative to the repository root. */
  file: string;
  field: string;
  found: string;
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The version every artefact is released under. */
export async function projectVersion(root: string): Promise<string> {
  return (await readJson<Manifest>(join(root, 'package.json'))).version;
}

async function workspaces(root: string): Promise<{ dir: string; manifest: Manifest }[]> {
  const { workspaces: dirs = [] } = await readJson<Manifest>(join(root, 'package.json'));
  return Promise.all(dirs.map(async (dir) => ({ dir, manifest: await readJson<Manifest>(join(root, dir, 'package.json')) })));
}

/** Every workspace version and pin between workspaces that is not the root's version. */
export async function versionMismatches(root: string): Promise<Mismatch[]> {
  const version = await projectVersion(root);
  const all = await workspaces(root);
  const names = new Set(all.map((w) => w.manifest.name));
  const mismatches: Mismatch[] = [];
  for (const { dir, manifest } of all) {
    const file = `${dir}/package.json`;
    if (manifest.version !== version) mismatches.push({ file, field: 'version', found: manifest.version });
    for (const group of ['dependencies', 'devDependencies'] as const) {
      for (const [name, range] of Object.entries(manifest[group] ?? {})) {
        if (names.has(name) && range !== version) mismatches.push({ file, field: `${group}.${name}`, found: range });
      }
    }
  }
  return mismatches;
}

/** Writes `version` into the root and every workspace manifest, their pins of each other, and package-lock.json. */
export async function setVersion(root: string, version: string): Promise<void> {
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`not a semantic version: "${version}"`);
  const all = await workspaces(root);
  const names = new Set(all.map((w) => w.manifest.name));
  const pin = (deps: Record<string, string> | undefined) => {
    for (const name of Object.keys(deps ?? {})) if (names.has(name)) deps![name] = version;
  };
  const rootManifest = await readJson<Manifest>(join(root, 'package.json'));
  rootManifest.version = version;
  await writeJson(join(root, 'package.json'), rootManifest);
  for (const { dir, manifest } of all) {
    manifest.version = version;
    pin(manifest.dependencies);
    pin(manifest.devDependencies);
    await writeJson(join(root, dir, 'package.json'), manifest);
  }
  const lockPath = join(root, 'package-lock.json');
  const lock = await readJson<{ version?: string; packages: Record<string, Manifest> }>(lockPath);
  lock.version = version;
  for (const key of ['', ...all.map((w) => w.dir)]) {
    const entry = lock.packages[key];
    if (entry === undefined) continue;
    entry.version = version;
    pin(entry.dependencies);
    pin(entry.devDependencies);
  }
  await writeJson(lockPath, lock);
}

/** As npm writes them: two spaces, a final newline. */
async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
