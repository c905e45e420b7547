import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, randomIconSpec, renderIcon } from '../../src/icons';
import type { Image8 } from '../../src/image/image8';
import { vectoriseSet } from '../../src/vector';
import { lanesReady, runInLanes, startLanes } from '../../src/vector/lanes';
import { fitPalette } from '../../src/vector/palette';
import { prepare, type TraceTask } from '../../src/vector/trace-image';

// The lanes' worker runs dist/vector-worker.js: `npm test` builds it first (see lanes.ts).
const NOT_BUILT = 'no trace lane started: is packages/daemon/dist/vector-worker.js built and newer than every file of src/?';

// Lanes that are still loading their libraries take work only once loaded: the tests that count
// lanes start theirs first.
beforeAll(async () => {
  startLanes(2);
  expect(await lanesReady(), NOT_BUILT).toBe(2);
});

/** Six 96 px icons with noise, so that some need curves and some pixel outlines. */
function noisySet(seed: number): Image8[] {
  const rng = createRng(seed);
  return Array.from({ length: 6 }, (_, i) => {
    const data = renderIcon(randomIconSpec(rng), 96).rgb;
    if (i % 2 === 1) for (let k = 0; k < data.length; k++) data[k] = Math.max(0, Math.min(255, data[k] + Math.round(40 * (rng.next() - 0.5))));
    return { width: 96, height: 96, channels: 3 as const, data };
  });
}

describe('trace lanes', () => {
  it('give every image the same SVG, numbers and palette as tracing on one thread', async () => {
    const images = noisySet(11);
    const options = { background: 'transparent', svg: true, palette: 'set' } as const;
    const alone = await vectoriseSet(images, { ...options, lanes: 1 });
    const shared = await vectoriseSet(images, { ...options, lanes: 3 });
    // (the third lane, started just now, may still be loading: at least two took images)
    expect(alone.lanes).toBe(1);
    expect(shared.lanes, NOT_BUILT).toBeGreaterThan(1);
    expect(shared.palettes).toEqual(alone.palettes);
    expect(shared.images.map((im) => im.svg)).toEqual(alone.images.map((im) => im.svg));
    expect(shared.images.map((im) => im.stats)).toEqual(alone.images.map((im) => im.stats));
    expect(alone.images.every((im) => im.svg !== undefined && im.svg.length > 100)).toBe(true);
  });

  it("keep a failing image's error to that image, in order, whichever lane ran it", async () => {
    // Eighteen images, so that the other lane, once the machine gives it a turn, takes some.
    const images = [...noisySet(5), ...noisySet(6), ...noisySet(8)].map(prepare);
    const palette = fitPalette([{ lab: [0.5, 0, 0], weight: 1 }, { lab: [0.9, 0.05, 0], weight: 1 }], { targetError: 0, maxColours: 2 }).colours;
    // assignColours refuses palettes of 255 colours or more (255 marks transparent pixels).
    const tooMany = Array.from({ length: 255 }, () => palette[0]);
    const tasks: Array<TraceTask | Error> = images.map((prepared, i) => ({ op: 'trace', prepared, palette: i % 3 === 1 ? tooMany : palette, fidelities: ['exact'] }));
    tasks.push(new Error('passed through'));
    const { results: traced, lanes } = await runInLanes(tasks, { lanes: 2, checkpoint: async () => undefined });
    expect(lanes, NOT_BUILT).toBe(2);
    expect(traced).toHaveLength(19);
    traced.forEach((t, i) => {
      if (i === 18) expect(t).toEqual(new Error('passed through'));
      else if (i % 3 === 1) expect((t as Error).message).toMatch(/at most 254 colours, got 255/);
      else expect(t).toMatchObject({ stats: { fidelity: 'exact' }, svg: expect.stringContaining('<path') });
    });
  });

  it('reject with the error of a checkpoint that throws (a cancel), this thread taking no image after it', async () => {
    const images = noisySet(7).map(prepare);
    const palette = fitPalette([{ lab: [0.5, 0, 0], weight: 1 }], { targetError: 0, maxColours: 1 }).colours;
    const tasks: TraceTask[] = Array.from({ length: 40 }, (_, i) => ({ op: 'trace', prepared: images[i % images.length], palette, fidelities: ['smooth', 'exact'] }));
    let turns = 0;
    const cancelled = new Error('job x was cancelled');
    const run = runInLanes(tasks, {
      lanes: 2,
      checkpoint: async () => {
        if (++turns > 3) throw cancelled;
      },
    });
    await expect(run).rejects.toBe(cancelled);
    // The caller's thread checks while the lanes work (every 20 ms), and stops them at the throw.
    expect(turns).toBe(4);
  });

  it('never keep a process alive: started and unused, or used', async () => {
    const vector = new URL('../../src/vector/index.ts', import.meta.url).href;
    const script = (use: boolean) =>
      `const v = await import(${JSON.stringify(vector)}); await v.preloadVectorLibraries();` +
      (use ? ' await v.lanesReady();' : '') +
      (use ? ` const { renderIcon, randomIconSpec, createRng } = await import(${JSON.stringify(new URL('../../src/icons/index.ts', import.meta.url).href)}); const rng = createRng(1);` +
        ` const set = await v.vectoriseSet([0, 1, 2].map(() => ({ width: 48, height: 48, channels: 3, data: renderIcon(randomIconSpec(rng), 48).rgb })), { background: 'keep', svg: true, palette: 'set', lanes: 2 }); console.log(set.lanes);` : ' console.log(0);');
    for (const use of [false, true]) {
      // A process held by a lane would run into the timeout (and be killed) instead of exiting.
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(use)], { timeout: 30_000 });
      expect(stdout.trim()).toBe(use ? '2' : '0');
    }
  }, 70_000);
});
