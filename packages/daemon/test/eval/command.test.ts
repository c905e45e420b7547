import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerEval } from '../../src/cli/commands/eval';
import { RESULTS_END, RESULTS_START } from '../../src/eval/report';
import { decodeImage } from '../../src/image/decode';
import { generateTinyModel } from '../../../../test/support/tiny-models';

let root: string;
let modelDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-eval-'));
  modelDir = join(root, 'model');
  await generateTinyModel(modelDir, { family: 'sd1' });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function styleset(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerEval(program);
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'styleset', ...args]);
  } finally {
    write.mockRestore();
  }
  return stdout;
}

describe('styleset eval', () => {
  it('runs end to end on a tiny random model and writes the page and the contact sheet', async () => {
    const out = join(root, 'docs');
    const args = ['eval', '--model', modelDir, '--data-dir', join(root, 'data'), '--sets', '2', '--steps', '6', '--examples', '2', '--per-name', '0', '--out', out, '--no-progress'];
    const record = JSON.parse(await styleset(...args, '--json'));
    expect(record.summary.styleAligned.consistency.spread.n).toBe(2);
    expect(record.results.reference).toHaveLength(2);
    expect(record.perName).toEqual([]);
    expect(record.files.page).toBe(join(out, 'evaluation.md'));

    const sheet = decodeImage(await readFile(join(out, 'images', 'contact-sheet.png')), 'sheet');
    // Two rows of 16 px tiles at 2x: 4 + 2 x (32 + 4).
    expect(sheet.height).toBe(76);

    const page = await readFile(record.files.page, 'utf8');
    expect(page).toContain(`npx styleset eval --sets 2 --steps 6 --examples 2 --per-name 0 --out ${out} --model ${modelDir}`);
    expect(page).toContain('| StyleAligned, reference image |');

    // A rerun replaces the section and keeps the hand-written text around it.
    await writeFile(record.files.page, `# Evaluation\n\nHow it works.\n\n${page.slice(page.indexOf(RESULTS_START))}`);
    const text = await styleset(...args);
    expect(text).toContain('| plain generation |');
    expect(text).toMatch(/Colour spread StyleAligned \/ plain: \d+\.\d\dx/);
    const again = await readFile(record.files.page, 'utf8');
    expect(again.startsWith('# Evaluation\n\nHow it works.\n\n')).toBe(true);
    expect(again.split(RESULTS_START)).toHaveLength(2);
    expect(again.split(RESULTS_END)).toHaveLength(2);
  });
});
