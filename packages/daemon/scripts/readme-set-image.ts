/**
 * The README's picture: the main job's set above the same prompts and seeds with sharing off.
 *
 *   npx tsx packages/daemon/scripts/readme-set-image.ts [--seed 3] [--scale 3] [--out docs/images/first-default-model-set.png]
 *
 * It runs the embedded model exactly as `styleset generate` does (the engine, its defaults), so
 * the top row is what the README's command prints with `--seed 3`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveOptions } from '@styleset/protocol';
import { defaultModelDir, EMBEDDED_MODEL_ID } from '../src/model/default-model';
import { contactSheet } from '../src/eval/contact-sheet';
import { PipelineEngine } from '../src/engine/pipeline-engine';
import { decodeImage } from '../src/image/decode';
import type { Image8 } from '../src/image/image8';
import { encodePng } from '../src/image/png';

const PROMPTS = ['a home icon', 'a search icon', 'a settings icon', 'a user icon'];

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '3' },
    scale: { type: 'string', default: '3' },
    out: { type: 'string', default: 'docs/images/first-default-model-set.png' },
  },
});
const seed = Number(values.seed);
const scale = Number(values.scale);

const dataDir = mkdtempSync(join(tmpdir(), 'styleset-readme-'));
const engine = new PipelineEngine({
  models: [{ id: EMBEDDED_MODEL_ID, dir: defaultModelDir(), embedded: true }],
  defaultModelId: EMBEDDED_MODEL_ID,
  runtime: { provider: 'cpu' },
  dataDir,
});
try {
  const [info] = await engine.listModels();
  const rows: Image8[][] = [];
  for (const shareAttention of [true, false]) {
    const images: Image8[] = [];
    const options = { ...resolveOptions('set', info, { seed, shareAttention }), model: info.id, seed };
    await engine.run(
      { kind: 'set', prompts: PROMPTS, options },
      { onProgress: () => {}, onResult: async (r) => void (images[r.index] = decodeImage(r.png, PROMPTS[r.index])) },
      new AbortController().signal,
    );
    rows.push(images);
  }
  // The evaluation's contact sheet without its gaps: the rows side by side, upscaled.
  const sheet = contactSheet(rows.map((row) => [row]), { scale, gap: 0, blockGap: 0, background: [255, 255, 255] });
  writeFileSync(values.out, encodePng(sheet));
  console.log(`wrote ${values.out}`);
} finally {
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
}
