// `npm run release [-- --out DIR]`: the artefacts a user installs, each under the project's one
// version (the root package.json), into release/: the npm package of the CLI and daemon, the VS
// Code extension's .vsix and the Figma plugin's zip, with their SHA-256 sums. `npm run release`
// builds first; this script packs what is built.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { buildFigmaZip } from './figma-zip';
import { buildNpmPackage } from './npm-package';
import { projectVersion, versionMismatches } from './versions';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? join(root, 'release'));

const mismatches = await versionMismatches(root);
const version = await projectVersion(root);
if (mismatches.length > 0) {
  console.error(`The workspaces do not all carry version ${version} (the root package.json's):`);
  for (const m of mismatches) console.error(`  ${m.file} ${m.field}: ${m.found}`);
  console.error(`\`npm run set-version -- ${version}\` writes it everywhere.`);
  process.exit(1);
}

// A fresh folder, so that it holds this version's artefacts and nothing else.
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const npm = await buildNpmPackage(root, out);
await promisify(execFile)(process.execPath, [join(root, 'packages', 'vscode-ext', 'package.mjs'), out]);
const figma = await buildFigmaZip(join(root, 'packages', 'figma-plugin'), join(out, `styleset-figma-${version}.zip`), `styleset-figma-${version}`);

const files = (await readdir(out)).sort();
const sums = await Promise.all(files.map(async (name) => `${createHash('sha256').update(await readFile(join(out, name))).digest('hex')}  ${name}`));
await writeFile(join(out, 'SHA256SUMS'), `${sums.join('\n')}\n`);

console.log(`Styleset ${version} in ${out}:`);
for (const name of files) console.log(`  ${name.padEnd(36)} ${((await stat(join(out, name))).size / 1e6).toFixed(2).padStart(7)} MB`);
console.log(`  SHA256SUMS`);
console.log(`npm package: ${npm.files.length} files, ${(npm.unpackedBytes / 1e6).toFixed(1)} MB unpacked; dependencies ${Object.keys(npm.dependencies).join(', ')}`);
console.log(`Figma zip: ${figma.entries.map((e) => basename(e)).join(', ')}`);
