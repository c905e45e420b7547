import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import BUNDLE_EXTERNALS from '../../packages/daemon/bundle-externals.json' with { type: 'json' };
import { projectVersion } from './versions';

/** The published name: the command it installs, so `npx styleset …` works anywhere. */
export const NPM_NAME = 'styleset';

/**
 * The npm registry answers 413 to uploads past about 200 MB, and npm's maintainers call tarballs
 * past about 100 MB impractical for clients; the package stays well below that.
 */
export const MAX_TARBALL_BYTES = 100e6;

export interface NpmPackage {
  file: string;
  name: string;
  version: string;
  /** Compressed and unpacked sizes, as npm pack reports them. */
  bytes: number;
  unpackedBytes: number;
  files: string[];
  dependencies: Record<string, string>;
}

interface Manifest {
  name: string;
  version: string;
  description?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const execFileAsync = promisify(execFile);

/**
 * The CLI and daemon as one npm package, packed into `outDir`: the two bundles (every JavaScript
 * dependency and the protocol package inside them), bin/styleset.js, the embedded model, the
 * evaluation's held-out glyphs, licences, and as dependencies only what the bundles leave external.
 * No sources, tests or dev tooling.
 */
export async function buildNpmPackage(root: string, outDir: string): Promise<NpmPackage> {
  const daemon = join(root, 'packages', 'daemon');
  const daemonManifest = await readJson<Manifest>(join(daemon, 'package.json'));
  const rootManifest = await readJson<Manifest>(join(root, 'package.json'));
  const stage = await mkdtemp(join(tmpdir(), 'styleset-npm-'));
  try {
    const manifest = {
      name: NPM_NAME,
      version: await projectVersion(root),
      description: rootManifest.description,
      keywords: ['stable-diffusion', 'style-aligned', 'onnxruntime', 'icons', 'figma', 'vscode', 'cli'],
      license: 'MIT',
      type: 'module',
      bin: { styleset: 'bin/styleset.js' },
      engines: rootManifest.engines,
      dependencies: publishedDependencies(daemonManifest.dependencies ?? {}),
    };
    await writeFile(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const file of ['README.md', 'LICENSE', 'bin/styleset.js', 'dist/cli.js', 'dist/engine-worker.js', 'dist/vector-worker.js']) {
      await cp(join(daemon, file), join(stage, file)).catch((error: NodeJS.ErrnoException) => {
        throw new Error(`${join(daemon, file)} is missing${file.startsWith('dist/') ? ' (run `npm run build` first)' : ''}: ${error.message}`);
      });
    }
    await cp(join(daemon, 'models', 'default'), join(stage, 'models', 'default'), { recursive: true });
    // `styleset eval` scores content against these held-out glyphs (src/eval/glyph-library.ts).
    await cp(join(daemon, 'eval-data'), join(stage, 'eval-data'), { recursive: true });
    await writeFile(join(stage, 'THIRD-PARTY-NOTICES.md'), await thirdPartyNotices(daemon));
    await mkdir(outDir, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const { stdout } = await execFileAsync(npm, ['pack', '--json', '--pack-destination', resolve(outDir)], { cwd: stage, shell: process.platform === 'win32' });
    const [packed] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
    const result: NpmPackage = {
      file: join(resolve(outDir), packed.filename),
      name: manifest.name,
      version: manifest.version,
      bytes: packed.size,
      unpackedBytes: packed.unpackedSize,
      files: packed.files.map((f) => f.path).sort(),
      dependencies: manifest.dependencies,
    };
    if (result.bytes > MAX_TARBALL_BYTES) {
      throw new Error(`${result.file} is ${(result.bytes / 1e6).toFixed(1)} MB, over the ${MAX_TARBALL_BYTES / 1e6} MB the npm registry and its clients handle well: move large files (models) out of the package`);
    }
    return result;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/**
 * The daemon's dependencies that the bundles leave external, with the daemon's own ranges; an
 * external the daemon does not depend on (ws's optional bufferutil) stays optional and out.
 */
export function publishedDependencies(daemonDependencies: Record<string, string>): Record<string, string> {
  return Object.fromEntries(BUNDLE_EXTERNALS.filter((name) => name in daemonDependencies).map((name) => [name, daemonDependencies[name]]));
}

interface Metafile {
  inputs: Record<string, unknown>;
}

/** Each npm package inside the bundles (by esbuild's metafile) with its version, licence and licence text. */
export async function thirdPartyNotices(daemon: string): Promise<string> {
  const meta = await readJson<Metafile>(join(daemon, 'dist', 'bundle-meta.json')).catch(() => {
    throw new Error(`${join(daemon, 'dist', 'bundle-meta.json')} is missing: run \`npm run build\` first`);
  });
  const roots = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) roots.add(resolve(daemon, match[1]));
  }
  const sections: string[] = [];
  const packages = await Promise.all([...roots].map(async (dir) => ({ dir, manifest: await readJson<Manifest & { license?: string }>(join(dir, 'package.json')) })));
  for (const { dir, manifest } of packages.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))) {
    const licenceFile = (await readdir(dir)).find((name) => /^(licen[cs]e|copying)/i.test(name));
    const text = licenceFile === undefined ? `(${manifest.name} ships no licence text; its package.json says ${manifest.license})` : (await readFile(join(dir, licenceFile), 'utf8')).trim();
    sections.push(`## ${manifest.name} ${manifest.version} (${manifest.license})\n\n\`\`\`\n${text}\n\`\`\``);
  }
  return [
    '# Third-party software in this package',
    '',
    "dist/cli.js, dist/engine-worker.js and dist/vector-worker.js include the following npm packages (esbuild bundles). The packages listed as dependencies in package.json are installed by npm with their own licences.",
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}
