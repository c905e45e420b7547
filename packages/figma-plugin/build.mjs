// Bundles the plugin for Figma: dist/code.js for the main thread (a classic script in Figma's
// sandbox: no modules, and es2017 syntax, which every Figma client parses) and dist/ui.html with
// the UI script inlined (Figma loads the UI from one HTML string, so it fetches no script file).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
// The manifest points at dist/; tests build into a folder of their own.
const dist = process.argv[2] === undefined ? join(root, 'dist') : resolve(process.argv[2]);
const SCRIPT_MARKER = '<!-- styleset:ui-script -->';

const common = { bundle: true, format: 'iife', write: false, logLevel: 'warning', legalComments: 'none' };

const [code, ui] = await Promise.all([
  build({ ...common, entryPoints: [join(root, 'src/code.ts')], target: 'es2017' }),
  build({ ...common, entryPoints: [join(root, 'src/ui/main.ts')], target: 'es2020', minify: true }),
]);
const codeJs = code.outputFiles[0].text;
// "</script" inside the inlined script would end the element early; "<\/script" means the same in JS.
const uiJs = ui.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');

const shell = await readFile(join(root, 'src/ui/index.html'), 'utf8');
if (!shell.includes(SCRIPT_MARKER)) throw new Error(`src/ui/index.html has no ${SCRIPT_MARKER} marker for the UI script`);
// A function replacement, so that `$&` and the like in the bundle stay literal.
const html = shell.replace(SCRIPT_MARKER, () => `<script>${uiJs}</script>`);

// The sandbox runs code.js as a classic script, so it must parse as one (no import statements)
// and load nothing at run time either.
new Script(codeJs, { filename: 'dist/code.js' });
if (/\b(?:require|import)\s*\(/.test(codeJs)) throw new Error('dist/code.js still loads a module at run time');

await mkdir(dist, { recursive: true });
await Promise.all([writeFile(join(dist, 'code.js'), codeJs), writeFile(join(dist, 'ui.html'), html)]);
