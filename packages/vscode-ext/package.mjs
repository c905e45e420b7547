// Packages the extension as a .vsix with the project's own @vscode/vsce (`vsce package
// --no-dependencies`): the bundle carries every dependency, so node_modules stays out. Into
// release/, or the folder given (the tests use their own). Through vsce's API rather than its
// CLI, which asks the npm registry for vsce's latest version when run in a terminal: packaging
// works offline.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createVSIX } from '@vscode/vsce';

const root = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] === undefined ? join(root, 'release') : resolve(process.argv[2]);
const { name, version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

await mkdir(out, { recursive: true });
await createVSIX({
  cwd: root,
  packagePath: join(out, `${name}-${version}.vsix`),
  dependencies: false,
  // The project has no public repository address yet; see the README's VS Code section.
  allowMissingRepository: true,
});
