import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../src');
const architecture = resolve(import.meta.dirname, '../../../docs/architecture.md');

/** The layer order as docs/architecture.md writes it: rank 0 is the top line. */
function layerRanks(): Map<string, number> {
  const block = /```layers\n([\s\S]*?)```/.exec(readFileSync(architecture, 'utf8'));
  if (block === null) throw new Error('docs/architecture.md has no ```layers block');
  const ranks = new Map<string, number>();
  block[1]
    .split('\n')
    .filter((line) => line.trim() !== '')
    .forEach((line, rank) => line.trim().split(/\s+/).forEach((name) => ranks.set(name, rank)));
  return ranks;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative specifiers of every static, type-only, re-export and dynamic import. */
function relativeImports(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm)) found.push(match[1]);
  return found;
}

/** The layer a path under src belongs to: its top folder, or a root file's name without `.ts`. */
function layerOf(path: string): string | undefined {
  const rel = relative(src, path);
  if (rel.startsWith('..')) return undefined;
  const [first, ...rest] = rel.split(sep);
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

interface Violation {
  file: string;
  imports: string;
  why: string;
}

/** Imports that go up, sideways to a sibling layer, or into a folder the layer table does not place. */
function layerViolations(files: { path: string; text: string }[], ranks: Map<string, number>): Violation[] {
  const violations: Violation[] = [];
  for (const { path, text } of files) {
    const from = layerOf(path);
    if (from === undefined || from === 'index') continue;
    for (const specifier of relativeImports(text)) {
      const to = layerOf(resolve(dirname(path), specifier));
      // Outside src (the package's own package.json) is no layer.
      if (to === undefined || to === from) continue;
      const file = relative(src, path);
      for (const name of [from, to]) {
        if (!ranks.has(name)) violations.push({ file, imports: specifier, why: `${name} has no line in docs/architecture.md's layers` });
      }
      if (!ranks.has(from) || !ranks.has(to)) continue;
      if (ranks.get(to)! <= ranks.get(from)!) {
        violations.push({ file, imports: specifier, why: `${from} may not import ${to} (${ranks.get(to) === ranks.get(from) ? 'a sibling' : 'a higher layer'})` });
      }
    }
  }
  return violations;
}

describe('the daemon layers', () => {
  it('no module imports a higher layer or a sibling', () => {
    const files = sourceFiles(src).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
    expect(files.length).toBeGreaterThan(50);
    expect(layerViolations(files, layerRanks())).toEqual([]);
  });

  it('catches an engine module that imports the CLI, by type or by value, and a folder with no layer', () => {
    const ranks = layerRanks();
    const file = (path: string, text: string) => ({ path: join(src, path), text });
    expect(
      layerViolations(
        [
          file('engine/a.ts', "import type { EngineSetup } from '../cli/commands/serve';"),
          file('engine/b.ts', "export { x } from '../server/daemon';\nconst m = await import('../cli/main');"),
          file('model/c.ts', "import {\n  y,\n} from '../pipeline/generate';"),
          file('pipeline/d.ts', "import { z } from '../model/tensor';\nimport { w } from './denoise';"),
          file('image/e.ts', "import '../attention/rewrite';"),
          file('newthing/f.ts', "import { v } from '../errors';"),
        ],
        ranks,
      ).map((v) => `${v.file} -> ${v.imports}: ${v.why}`),
    ).toEqual([
      'engine/a.ts -> ../cli/commands/serve: engine may not import cli (a higher layer)',
      'engine/b.ts -> ../server/daemon: engine may not import server (a higher layer)',
      'engine/b.ts -> ../cli/main: engine may not import cli (a higher layer)',
      'model/c.ts -> ../pipeline/generate: model may not import pipeline (a higher layer)',
      'image/e.ts -> ../attention/rewrite: image may not import attention (a sibling)',
      'newthing/f.ts -> ../errors: newthing has no line in docs/architecture.md\'s layers',
    ]);
  });
});
