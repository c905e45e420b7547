/**
 * The README's vector examples: the set of its `--format both --background transparent` command
 * (seed 3), as the PNGs with alpha and the SVGs that command writes (`NN-prompt.png/.svg`); and
 * four flat-coloured 128 px icons from the procedural renderer (the previous model's training data), vectorised
 * the same way (`clean-NN.png/.svg`), a stand-in for a model whose outputs are clean.
 *
 *   npx tsx packages/daemon/scripts/readme-vector-images.ts [--seed 3] [--out docs/images/vector]
 *
 * It runs the embedded model with its defaults, then `vectoriseSet` on the set's PNGs (what the
 * engine's vector stage does for `styleset generate` and the daemon), and prints each image's numbers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveOptions } from '@styleset/protocol';
import { EMBEDDED_MODEL_ID, defaultModelDir } from '../src/model/default-model';
import { PipelineEngine } from '../src/engine/pipeline-engine';
import { DEFAULT_DECODE_LIMITS } from '../src/image/image8';
import { decodePng, encodePng } from '../src/image/png';
import { createRng, randomIconSpec, renderIcon } from '../src/icons';
import type { Image8 } from '../src/image/image8';
import { vectoriseSet } from '../src/vector';

const PROMPTS = ['a home icon', 'a search icon', 'a settings icon', 'a user icon'];

const { values } = parseArgs({ options: { seed: { type: 'string', default: '3' }, out: { type: 'string', default: 'docs/images/vector' } } });
const seed = Number(values.seed);

const dataDir = mkdtempSync(join(tmpdir(), 'styleset-readme-'));
const engine = new PipelineEngine({
  models: [{ id: EMBEDDED_MODEL_ID, dir: defaultModelDir(), embedded: true }],
  defaultModelId: EMBEDDED_MODEL_ID,
  runtime: { provider: 'cpu' },
  dataDir,
});
try {
  const [model] = await engine.listModels();
  const pngs: { index: number; prompt: string; png: Uint8Array }[] = [];
  await engine.run(
    { kind: 'set', prompts: PROMPTS, options: { ...resolveOptions('set', model, {}), model: model.id, seed } },
    { onProgress: () => {}, onResult: async (r) => void pngs.push({ index: r.index, prompt: r.prompt, png: r.png }) },
    new AbortController().signal,
  );
  pngs.sort((a, b) => a.index - b.index);
  mkdirSync(values.out, { recursive: true });
  const names = pngs.map((p, i) => `${String(i + 1).padStart(2, '0')}-${p.prompt.replace(/[^a-z0-9]+/g, '-')}`);
  await writeSet(pngs.map((p) => decodePng(p.png, p.prompt, DEFAULT_DECODE_LIMITS)), names);
  const rng = createRng(seed);
  const clean = Array.from({ length: 4 }, (): Image8 => ({ width: 128, height: 128, channels: 3, data: renderIcon(randomIconSpec(rng), 128).rgb }));
  await writeSet(clean, clean.map((_, i) => `clean-${String(i + 1).padStart(2, '0')}`));
} finally {
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
}

async function writeSet(images: Image8[], names: string[]): Promise<void> {
  const set = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set' });
  for (const [i, image] of set.images.entries()) {
    writeFileSync(join(values.out, `${names[i]}.png`), encodePng(image.png));
    writeFileSync(join(values.out, `${names[i]}.svg`), image.svg!);
    const s = image.stats!;
    console.log(`${names[i]}: ${s.paths} paths, ${s.subpaths} subpaths, ${(s.bytes / 1024).toFixed(1)} KB, ${s.fidelity}, error ${s.errorQuantised.toFixed(2)} vs quantised, ${s.errorOriginal.toFixed(2)} vs PNG${image.warning ? `; ${image.warning}` : ''}`);
  }
  console.log(`palette: ${set.palettes[0].length} colours`);
}
