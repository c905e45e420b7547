// `npm run set-version -- X.Y.Z`: the project's version, in the root package.json and everywhere
// that has to repeat it (scripts/release/versions.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setVersion, versionMismatches } from './release/versions';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = process.argv[2];
if (version === undefined) {
  console.error('usage: npm run set-version -- X.Y.Z');
  process.exit(2);
}
await setVersion(root, version);
const left = await versionMismatches(root);
if (left.length > 0) throw new Error(`still different: ${left.map((m) => `${m.file} ${m.field}`).join(', ')}`);
console.log(`version ${version} in package.json, every workspace and package-lock.json`);
