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
import { defaultModelDir } from '../src/cli/default-model';
import { EMBEDDED_MODEL_ID } from '../src/engine/create-engine';
import { PipelineEngine } from '../src/engine/pipeline-engine';
import { decodeImage } from '../src/image/decode';
import type { Image8 } from '../src/image/image8';
import { encodePng } from '../src/image/png';

const PROMPTS = ['a star icon', 'a heart icon', 'a moon icon', 'a house icon'];

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
  writeFileSync(values.out, encodePng(grid(rows, scale)));
  console.log(`wrote ${values.out}`);
} finally {
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Rows of equal-size RGB images side by side, each pixel a scale x scale block. */
function grid(rows: Image8[][], s: number): Image8 {
  const { width: w, height: h } = rows[0][0];
  const width = rows[0].length * w * s;
  const height = rows.length * h * s;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const image = rows[Math.floor(y / (h * s))][Math.floor(x / (w * s))];
      const source = (Math.floor((y % (h * s)) / s) * w + Math.floor((x % (w * s)) / s)) * image.channels;
      data.set(image.data.subarray(source, source + 3), (y * width + x) * 3);
    }
  }
  return { width, height, channels: 3, data };
}
