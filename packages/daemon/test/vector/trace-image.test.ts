import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
import { DEFAULT_DECODE_LIMITS, type Image8 } from '../../src/image/image8';
import { decodePng } from '../../src/image/png';
import { ColourBins, fitPalette } from '../../src/vector/palette';
import { finishImage, loadVectorLibraries, prepare, runImageTask, traceImage, type Prepared } from '../../src/vector/trace-image';
import { mae, render } from './support';

/** A 96 px icon, with noise when `noise` (what makes curves give way to pixel outlines). */
function icon(seed: number, noise: number): Image8 {
  const rng = createRng(seed);
  const data = renderIcon(randomIconSpec(rng), 96).rgb;
  for (let k = 0; k < data.length; k++) data[k] = Math.max(0, Math.min(255, data[k] + Math.round(noise * (rng.next() - 0.5))));
  return { width: 96, height: 96, channels: 3, data };
}

function paletteOf(prepared: Prepared, colours: number) {
  const bins = new ColourBins();
  bins.add(prepared.target.data, prepared.lab, Float32Array.from(prepared.drawn), prepared.target.channels);
  return fitPalette(bins.points(), { targetError: 0, minColours: colours, maxColours: colours }).colours;
}

describe('tracing one image', () => {
  it('writes the same SVG and numbers when it leaves the measuring to finishImage', async () => {
    await loadVectorLibraries();
    for (const [seed, noise] of [[3, 0], [5, 60], [8, 90]]) {
      const image = icon(seed, noise);
      const palette = paletteOf(prepare(image), 16);
      // Measured at every step, then finished: the reference.
      const reference = await finishImage(prepare(image), traceImage(prepare(image), palette));
      const task = await runImageTask({ op: 'trace', prepared: prepare(image), palette, fidelities: ['smooth', 'exact'] });
      expect(task.svg, `seed ${seed}`).toBe(reference.svg);
      expect(task.stats).toEqual(reference.stats);
      // The numbers are those of the SVG as written, rendered independently.
      expect(task.stats.errorOriginal).toBeCloseTo(mae(render(task.svg, 96), image), 6);
    }
  });

  it('leaves a sole traced SVG unmeasured (NaN) only when finishImage will measure it', () => {
    const image = icon(8, 90);
    const palette = paletteOf(prepare(image), 16);
    const unmeasured = traceImage(prepare(image), palette, ['exact'], true);
    expect(unmeasured.stats.errorOriginal).toBeNaN();
    expect(unmeasured.stats.errorQuantised).toBeNaN();
    const measured = traceImage(prepare(image), palette, ['exact']);
    expect(measured.svg).toBe(unmeasured.svg);
    expect(measured.stats.errorOriginal).toBeGreaterThan(0);
  });
});

describe('the size budget', () => {
  /** Two close blues in random pixels over a 128 px square: pixel outlines of thousands of specks. */
  function speckled(): Image8 {
    const rng = createRng(21);
    const size = 128;
    const data = new Uint8Array(size * size * 3);
    for (let p = 0; p < size * size; p++) data.set(rng.next() < 0.16 ? [40, 70, 190] : [30, 60, 170], 3 * p);
    return { width: size, height: size, channels: 3, data };
  }

  it('traces pixel outlines over 20 KB at 128 px again with lone pixels merged, within the error bound', async () => {
    await loadVectorLibraries();
    const image = speckled();
    const palette = paletteOf(prepare(image), 2);
    const plain = await finishImage(prepare(image), traceImage(prepare(image), palette, ['exact'], true));
    expect(plain.stats.bytes).toBeGreaterThan(20 * 1024);
    const task = await runImageTask({ op: 'trace', prepared: prepare(image), palette, fidelities: ['exact'] });
    expect(task.stats.bytes).toBeLessThan(plain.stats.bytes / 2);
    expect(task.stats.subpaths).toBeLessThan(plain.stats.subpaths);
    // Merging moved pixels off their colour: further from the PNG, but within the bound, as rendered independently.
    const error = mae(render(task.svg, 128), image);
    expect(task.stats.errorOriginal).toBeCloseTo(error, 6);
    expect(error).toBeGreaterThan(plain.stats.errorOriginal);
    expect(error).toBeLessThanOrEqual(10);
  });

  it('traces curves over 20 KB at 128 px again as pixel outlines with lone pixels merged, when smaller and within the error bound', async () => {
    await loadVectorLibraries();
    // The embedded model's settings icon of the bench's set (seed 7): a mottled toothed ring.
    const image = decodePng(await readFile(join(import.meta.dirname, 'fixtures', 'embedded-settings-seed7.png')), 'fixture', DEFAULT_DECODE_LIMITS);
    const palette = paletteOf(prepare(image), 16);
    const curves = await finishImage(prepare(image), traceImage(prepare(image), palette, ['smooth', 'exact'], true));
    expect(curves.stats.fidelity).toBe('smooth');
    expect(curves.stats.bytes).toBeGreaterThan(20 * 1024);
    const task = await runImageTask({ op: 'trace', prepared: prepare(image), palette, fidelities: ['smooth', 'exact'] });
    expect(task.stats.fidelity).toBe('exact');
    expect(task.stats.bytes).toBeLessThan(curves.stats.bytes);
    const error = mae(render(task.svg, 128), image);
    expect(task.stats.errorOriginal).toBeCloseTo(error, 6);
    expect(error).toBeLessThanOrEqual(10);
  });

  it('keeps an SVG within the budget as traced', async () => {
    await loadVectorLibraries();
    const image = icon(3, 0);
    const palette = paletteOf(prepare(image), 16);
    const plain = await finishImage(prepare(image), traceImage(prepare(image), palette, ['smooth', 'exact'], true));
    const task = await runImageTask({ op: 'trace', prepared: prepare(image), palette, fidelities: ['smooth', 'exact'] });
    expect(task.svg).toBe(plain.svg);
  });
});
