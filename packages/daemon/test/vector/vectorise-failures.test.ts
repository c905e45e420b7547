/**
 * A set's SVGs when one image breaks the native tracer, and when the caller stops the work: the
 * tracer is the real one, except for images of one width, on which it throws as a failing native
 * library would. The mock lives in this thread only, so every set here is traced on it alone
 * (`lanes: 1`); test/vector/lanes.test.ts has failures and stops across lanes.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { CancelledError } from '../../src/errors';
import type { Image8 } from '../../src/image/image8';
import { vectoriseSet } from '../../src/vector';
import { disc, drawnIcon, drawnSet, plus } from './drawn-icons';
import { longHex, paths } from './support';

const poisoned = vi.hoisted(() => ({ width: -1 }));

vi.mock('../../src/vector/trace', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/vector/trace')>();
  return {
    ...actual,
    traceLayers: (...args: Parameters<typeof actual.traceLayers>) => {
      if (args[1] === poisoned.width) throw new Error('the tracer failed on this image');
      return actual.traceLayers(...args);
    },
  };
});

const SIZE = 48;

/** The set, with one more image of another width: the one the tracer fails on when poisoned. */
function setWithOdd(): Image8[] {
  const odd = drawnIcon(40, [244, 240, 230], [{ shape: disc, colour: [30, 50, 110] }, { shape: plus, colour: [250, 200, 40] }]);
  const [a, b, c] = drawnSet(SIZE);
  return [a, odd, b, c];
}

describe('an image the tracer fails on', () => {
  it('costs that image its SVG, with the reason, and leaves the others as they would be', async () => {
    const images = setWithOdd();
    poisoned.width = -1;
    const clean = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set', lanes: 1 });
    expect(clean.images.map((im) => im.error)).toEqual([undefined, undefined, undefined, undefined]);

    poisoned.width = 40;
    const set = await vectoriseSet(images, { background: 'transparent', svg: true, palette: 'set', lanes: 1 });
    const odd = set.images[1];
    expect(odd).toMatchObject({ error: 'the tracer failed on this image', separated: true });
    expect([odd.svg, odd.palette, odd.stats]).toEqual([undefined, undefined, undefined]);
    for (const i of [0, 2, 3]) {
      expect(set.images[i].error).toBeUndefined();
      expect(set.images[i].svg, `image ${i}`).toBe(clean.images[i].svg);
      const fills = paths(set.images[i].svg!).map((p) => longHex(p.fill));
      expect(fills.every((f) => set.palettes[0].some((c) => c.hex === f))).toBe(true);
    }
    // The palette keeps the colours the remaining SVGs use: the odd image's yellow is gone.
    expect(set.palettes).toHaveLength(1);
    expect(set.palettes[0].map((c) => c.hex)).toEqual(clean.palettes[0].map((c) => c.hex).filter((hex) => set.palettes[0].some((c) => c.hex === hex)));
    expect(set.palettes[0].length).toBeLessThan(clean.palettes[0].length);
  });

  it('with a palette per image, costs only its own', async () => {
    poisoned.width = 40;
    const set = await vectoriseSet(setWithOdd(), { background: 'keep', svg: true, palette: 'image', lanes: 1 });
    expect(set.images.map((im) => im.error === undefined)).toEqual([true, false, true, true]);
    expect(set.images.map((im) => im.palette)).toEqual([0, undefined, 2, 3]);
  });
});

describe('the checkpoint', () => {
  it('is awaited between images, and gives the event loop its turns', async () => {
    poisoned.width = -1;
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const seen: number[] = [];
    try {
      await vectoriseSet(drawnSet(SIZE), {
        background: 'transparent',
        svg: true,
        palette: 'set', lanes: 1,
        checkpoint: async () => {
          seen.push(turns);
          await nextTurn();
        },
      });
    } finally {
      clearInterval(ticking);
    }
    // Tracing, then writing: at least twice per image.
    expect(seen.length).toBeGreaterThanOrEqual(6);
    // Timers ran while the set was being traced, not only after it.
    expect(seen.at(-1)).toBeGreaterThan(seen[0]);
  });

  it('stops the set when it throws, rather than costing one image its SVG', async () => {
    poisoned.width = -1;
    let calls = 0;
    const stopped = vectoriseSet(drawnSet(SIZE), {
      background: 'keep',
      svg: true,
      palette: 'set', lanes: 1,
      checkpoint: async () => {
        if (++calls === 2) throw new CancelledError('cancelled while tracing');
      },
    });
    await expect(stopped).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(2);
  });
});
