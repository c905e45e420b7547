/**
 * Writes the default model's training set: procedural icons with captions.
 *
 *   npx tsx packages/daemon/scripts/make-icon-dataset.ts [--count 60000] [--seed 1] [--out training/data]
 *
 * Output (read by training/train.py):
 *   images.npy      uint8 [N, 64, 64, 3]
 *   captions.json   string[N][CAPTIONS_PER_IMAGE]: the trainer picks one per step, so an image is
 *                   seen both with and without its style named
 *   specs.jsonl     one IconSpec per line, for inspection and evaluation
 *   vocabulary.json the fixed caption vocabulary the BPE merges are built from
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CAPTION_VOCABULARY,
  captionFor,
  createRng,
  randomIconSpec,
  renderIcon,
} from '../src/icons/index';

const SIZE = 64;
const CAPTIONS_PER_IMAGE = 3;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '60000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'training/data' },
  },
});
const count = Number(values.count);
const out = values.out;
mkdirSync(out, { recursive: true });

/** .npy v1.0 header; the data follows it unpadded. */
function npyHeader(shape: number[]): Buffer {
  const dict = `{'descr': '|u1', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

// One stream for the whole set: the dataset is a function of (seed, count).
const rng = createRng(Number(values.seed));
const fd = openSync(join(out, 'images.npy'), 'w');
writeSync(fd, npyHeader([count, SIZE, SIZE, 3]));
const captions: string[][] = [];
const specs: string[] = [];
const started = Date.now();
for (let i = 0; i < count; i++) {
  const spec = randomIconSpec(rng);
  writeSync(fd, renderIcon(spec, SIZE).rgb);
  captions.push(Array.from({ length: CAPTIONS_PER_IMAGE }, () => captionFor(spec, rng)));
  specs.push(JSON.stringify(spec));
  if ((i + 1) % 10000 === 0) {
    console.log(`${i + 1}/${count} icons, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
closeSync(fd);
writeFileSync(join(out, 'captions.json'), JSON.stringify(captions));
writeFileSync(join(out, 'specs.jsonl'), specs.join('\n') + '\n');
writeFileSync(join(out, 'vocabulary.json'), JSON.stringify(CAPTION_VOCABULARY));
console.log(`wrote ${count} icons to ${out}`);
