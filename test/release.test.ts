import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TARBALL_BYTES } from '../scripts/release/npm-package';
import { projectVersion, setVersion, versionMismatches } from '../scripts/release/versions';
import { zipEntries } from './support/zip-entries';

// `npm run release`'s artefacts, as scripts/release/main.ts writes them (the build is `npm test`'s):
// what each holds, byte for byte against what the build made, and the one version they carry.
// Installing the npm package and running it is test/install/npm-global.test.ts.

const root = join(import.meta.dirname, '..');
const daemon = join(root, 'packages', 'daemon');
const run = promisify(execFile);
let out: string;
let version: string;
let unpacked: string;

/** Every file under a folder, relative, with forward slashes. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((name) => statSync(join(dir, name)).isFile()).map((name) => name.split('\\').join('/'));
}

beforeAll(async () => {
  version = await projectVersion(root);
  out = await mkdtemp(join(tmpdir(), 'styleset-release-'));
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  await run(process.execPath, [tsx, join(root, 'scripts', 'release', 'main.ts'), '--out', join(out, 'release')], { cwd: root });
  unpacked = join(out, 'unpacked');
  await mkdir(unpacked);
  await run('tar', ['-xzf', join(out, 'release', `styleset-${version}.tgz`), '-C', unpacked]);
});

afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('npm run release', () => {
  it('writes the npm package, the .vsix and the Figma zip under the root version, with their SHA-256 sums', async () => {
    const files = await readdir(join(out, 'release'));
    expect(files.sort()).toEqual(['SHA256SUMS', `styleset-${version}.tgz`, `styleset-figma-${version}.zip`, `styleset-vscode-${version}.vsix`]);
    const sums = (await readFile(join(out, 'release', 'SHA256SUMS'), 'utf8')).trim().split('\n');
    const expected = await Promise.all(
      files.filter((f) => f !== 'SHA256SUMS').map(async (f) => `${createHash('sha256').update(await readFile(join(out, 'release', f))).digest('hex')}  ${f}`),
    );
    expect(sums).toEqual(expected);
    const vsix = await zipEntries(join(out, 'release', `styleset-vscode-${version}.vsix`));
    expect(JSON.parse(vsix.get('extension/package.json')!.toString('utf8')).version).toBe(version);
  });
});

describe('the npm package', () => {
  it('holds the bundles, bin, the embedded model, the evaluation glyphs, README and licences, and nothing of the sources or dev tooling', async () => {
    const model = filesUnder(join(daemon, 'models', 'default')).map((f) => `models/default/${f}`);
    expect(model.length).toBeGreaterThan(10);
    const evalData = filesUnder(join(daemon, 'eval-data')).map((f) => `eval-data/${f}`);
    expect(evalData).toContain('eval-data/glyphs.json');
    expect(filesUnder(join(unpacked, 'package')).sort()).toEqual(
      ['LICENSE', 'README.md', 'THIRD-PARTY-NOTICES.md', 'bin/styleset.js', 'dist/cli.js', 'dist/engine-worker.js', 'dist/vector-worker.js', 'package.json', ...model, ...evalData].sort(),
    );
    for (const file of ['bin/styleset.js', 'dist/cli.js', 'dist/engine-worker.js', 'dist/vector-worker.js', ...model, ...evalData]) {
      expect({ file, same: Buffer.compare(await readFile(join(unpacked, 'package', file)), await readFile(join(daemon, file))) === 0 }).toEqual({ file, same: true });
    }
    const tarball = statSync(join(out, 'release', `styleset-${version}.tgz`)).size;
    expect(tarball).toBeLessThan(MAX_TARBALL_BYTES);
  });

  it('is named styleset, installs the styleset command, and depends on exactly what the bundles leave out, at the daemon\'s ranges', async () => {
    const manifest = JSON.parse(await readFile(join(unpacked, 'package', 'package.json'), 'utf8'));
    const daemonDeps = JSON.parse(await readFile(join(daemon, 'package.json'), 'utf8')).dependencies as Record<string, string>;
    const rootManifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'styleset', version, type: 'module', bin: { styleset: 'bin/styleset.js' }, license: 'MIT', engines: rootManifest.engines });
    expect(manifest.dependencies).toEqual({
      'onnxruntime-node': daemonDeps['onnxruntime-node'],
      svgo: daemonDeps.svgo,
      '@neplex/vectorizer': daemonDeps['@neplex/vectorizer'],
      '@resvg/resvg-js': daemonDeps['@resvg/resvg-js'],
      bullmq: daemonDeps.bullmq,
      ioredis: daemonDeps.ioredis,
    });
    expect(Object.keys(manifest).filter((k) => ['scripts', 'devDependencies', 'workspaces', 'private'].includes(k))).toEqual([]);
    // Every other dependency of the daemon is inside the bundles: esbuild's record of what went in.
    const meta = JSON.parse(await readFile(join(daemon, 'dist', 'bundle-meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const bundled = new Set(Object.keys(meta.inputs).map((input) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? (input.startsWith('../protocol/') ? '@styleset/protocol' : '')));
    const missing = Object.keys(daemonDeps).filter((name) => !(name in manifest.dependencies) && !bundled.has(name));
    expect(missing).toEqual([]);
  });

  it('carries the licence of every package bundled into it', async () => {
    const notices = await readFile(join(unpacked, 'package', 'THIRD-PARTY-NOTICES.md'), 'utf8');
    const listed = [...notices.matchAll(/^## (\S+) (\S+) \((.+)\)$/gm)].map((m) => ({ name: m[1], version: m[2], license: m[3] }));
    for (const name of ['commander', 'zod', 'ws', 'protobufjs', 'long', 'pngjs', 'jpeg-js', 'cli-progress', '@huggingface/hub']) {
      const installed = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'));
      expect(listed).toContainEqual({ name, version: installed.version, license: installed.license });
    }
    const zodLicence = (await readFile(join(root, 'node_modules', 'zod', 'LICENSE'), 'utf8')).trim();
    expect(notices).toContain(zodLicence);
    // External dependencies bring their own licences with them.
    expect(listed.map((l) => l.name)).not.toContain('onnxruntime-node');
  });
});

describe('the Figma plugin zip', () => {
  it('is one folder with manifest.json and the built files it names, byte for byte', async () => {
    const plugin = join(root, 'packages', 'figma-plugin');
    const entries = await zipEntries(join(out, 'release', `styleset-figma-${version}.zip`));
    const folder = `styleset-figma-${version}`;
    const manifest = JSON.parse(entries.get(`${folder}/manifest.json`)!.toString('utf8')) as { main: string; ui: string };
    expect([...entries.keys()]).toEqual([`${folder}/manifest.json`, `${folder}/${manifest.main}`, `${folder}/${manifest.ui}`]);
    for (const [name, bytes] of entries) {
      const source = join(plugin, name.slice(folder.length + 1));
      expect({ name, same: Buffer.compare(bytes, await readFile(source)) === 0 }).toEqual({ name, same: true });
    }
  });
});

describe('the one version', () => {
  it('is the same in every workspace and every pin between them', async () => {
    expect(await versionMismatches(root)).toEqual([]);
  });

  it('is written everywhere by set-version, and a workspace left behind is named', async () => {
    const copy = join(out, 'copy');
    const manifests = ['package.json', 'package-lock.json', ...JSON.parse(await readFile(join(root, 'package.json'), 'utf8')).workspaces.map((w: string) => `${w}/package.json`)];
    for (const file of manifests) {
      await mkdir(join(copy, file, '..'), { recursive: true });
      await cp(join(root, file), join(copy, file));
    }
    const vscode = join(copy, 'packages', 'vscode-ext', 'package.json');
    await writeFile(vscode, (await readFile(vscode, 'utf8')).replace(`"version": "${version}"`, '"version": "9.9.9"'));
    expect(await versionMismatches(copy)).toEqual([{ file: 'packages/vscode-ext/package.json', field: 'version', found: '9.9.9' }]);
    await setVersion(copy, '2.3.4');
    expect(await versionMismatches(copy)).toEqual([]);
    expect(await projectVersion(copy)).toBe('2.3.4');
    const daemonManifest = JSON.parse(await readFile(join(copy, 'packages', 'daemon', 'package.json'), 'utf8'));
    expect([daemonManifest.version, daemonManifest.dependencies['@styleset/protocol']]).toEqual(['2.3.4', '2.3.4']);
    const lock = JSON.parse(await readFile(join(copy, 'package-lock.json'), 'utf8'));
    expect([lock.version, lock.packages[''].version, lock.packages['packages/daemon'].version, lock.packages['packages/daemon'].dependencies['@styleset/protocol']]).toEqual(['2.3.4', '2.3.4', '2.3.4', '2.3.4']);
  });
});
