import { PHASES, type Phase } from '@styleset/protocol';
import { describe, expect, it } from 'vitest';
import { count, etaText, finishedText, progressText, queuedText, startText, writtenBeforeFailure, writtenText, type SetWords } from '../packages/vscode-ext/src/progress-words';

const one: SetWords = { names: ['hero.png'] };
const two: SetWords = { names: ['home.png', 'search.png'] };
const four: SetWords = { names: ['home.png', 'search.png', 'settings.png', 'profile.png'] };
const styled: SetWords = { names: ['home.png', 'search.png'], styleImage: 'brand.png' };

describe('progress in words', () => {
  it('announces the set, counting images in the right number', () => {
    expect(startText(one)).toBe('Generating 1 image…');
    expect(startText(two)).toBe('Generating 2 images in one style…');
    expect(startText(four)).toBe('Generating 4 images in one style…');
  });

  it('says how many jobs are ahead in the queue', () => {
    expect(queuedText(1)).toBe('Waiting for 1 job ahead of this one…');
    expect(queuedText(3)).toBe('Waiting for 3 jobs ahead of this one…');
  });

  // Every phase of the protocol, for one image, several, and a set in the style of an image.
  const cases: [Phase, { step: number; total: number }, SetWords, string][] = [
    ['loading', { step: 0, total: 1 }, one, 'Loading the model…'],
    ['loading', { step: 1, total: 1 }, four, 'Loading the model…'],
    ['encoding', { step: 0, total: 1 }, one, 'Reading the prompt…'],
    ['encoding', { step: 1, total: 1 }, four, 'Reading the prompts…'],
    ['encoding', { step: 0, total: 1 }, styled, 'Reading brand.png and the prompts…'],
    ['inverting', { step: 3, total: 50 }, styled, 'Learning the style of brand.png — step 3 of 50'],
    ['inverting', { step: 1, total: 1 }, two, 'Learning the style of the style image — step 1 of 1'],
    ['denoising', { step: 12, total: 50 }, one, 'Drawing hero.png — step 12 of 50'],
    ['denoising', { step: 1, total: 4 }, two, 'Drawing 2 images — step 1 of 4'],
    ['denoising', { step: 50, total: 100 }, four, 'Drawing 4 images — step 50 of 100'],
    ['denoising', { step: 0, total: 4 }, four, 'Drawing 4 images…'],
    ['decoding', { step: 1, total: 1 }, one, 'Saving hero.png…'],
    ['decoding', { step: 1, total: 2 }, two, 'Saving 1 of 2 images…'],
    ['decoding', { step: 3, total: 4 }, four, 'Saving 3 of 4 images…'],
  ];

  it.each(cases)('%s %o for %o reads "%s"', (phase, steps, set, text) => {
    expect(progressText({ phase, ...steps }, set)).toBe(text);
  });

  it('covers every phase the protocol has', () => {
    expect(new Set(cases.map(([phase]) => phase))).toEqual(new Set(PHASES));
  });

  it('never shows the protocol\'s words or step/total', () => {
    for (const phase of PHASES) {
      for (const set of [one, two, four, styled]) {
        for (const [step, total] of [[0, 1], [1, 1], [2, 4], [4, 4]]) {
          const text = progressText({ phase, step, total, etaMs: 5000 }, set);
          expect(text).not.toMatch(/\b(?:loading|encoding|inverting|denoising|decoding)\b/);
          expect(text).not.toMatch(/\d\/\d/);
          expect(text).not.toMatch(/\b1 images\b|\b(?:[02-9]|\d\d+) image\b/);
          expect(text).toMatch(/^[A-Z]/);
        }
      }
    }
  });

  it('adds the time left when the daemon estimates it', () => {
    expect(progressText({ phase: 'denoising', step: 12, total: 50, etaMs: 40_000 }, one)).toBe('Drawing hero.png — step 12 of 50, about 40 seconds left');
    expect(progressText({ phase: 'decoding', step: 3, total: 4, etaMs: 2000 }, four)).toBe('Saving 3 of 4 images, about 2 seconds left');
    expect(progressText({ phase: 'loading', step: 0, total: 1, etaMs: 61_000 }, one)).toBe('Loading the model, about 1 minute left');
    expect(progressText({ phase: 'inverting', step: 3, total: 50, etaMs: 500 }, styled)).toBe('Learning the style of brand.png — step 3 of 50');
  });

  it('rounds the time left as people say it, in the right number', () => {
    const table: [number | undefined, string | undefined][] = [
      [undefined, undefined],
      [0, undefined],
      [999, undefined],
      [1000, 'about 1 second left'],
      [1499, 'about 1 second left'],
      [1500, 'about 2 seconds left'],
      [59_400, 'about 59 seconds left'],
      [59_500, 'about 1 minute left'],
      [89_000, 'about 1 minute left'],
      [90_000, 'about 2 minutes left'],
      [59 * 60_000, 'about 59 minutes left'],
      [60 * 60_000, 'about 1 hour left'],
      [61 * 60_000, 'about 1 hour 1 minute left'],
      [150 * 60_000, 'about 2 hours 30 minutes left'],
      [Number.POSITIVE_INFINITY, undefined],
    ];
    for (const [ms, text] of table) expect([ms, etaText(ms)]).toEqual([ms, text]);
  });

  it('names what was saved and counts it against the set', () => {
    expect(writtenText('public/hero.png', 1, 1)).toBe('Saved public/hero.png');
    expect(writtenText('img/a.png', 2, 4)).toBe('Saved img/a.png (2 of 4)');
  });

  it('closes with what was written, cancelled or not', () => {
    expect(finishedText('done', ['public/hero.png'], 1)).toBe('Styleset wrote public/hero.png.');
    expect(finishedText('done', ['a.png', 'b.png'], 2)).toBe('Styleset wrote 2 images.');
    expect(finishedText('cancelled', [], 1)).toBe('Styleset: cancelled before any image was written.');
    expect(finishedText('cancelled', ['a.png'], 1)).toBe('Styleset: cancelled after writing 1 of 1 image.');
    expect(finishedText('cancelled', ['a.png'], 4)).toBe('Styleset: cancelled after writing 1 of 4 images.');
    expect(writtenBeforeFailure(0, 4)).toBe('');
    expect(writtenBeforeFailure(1, 4)).toBe(' 1 of 4 images was written.');
    expect(writtenBeforeFailure(3, 4)).toBe(' 3 of 4 images were written.');
  });

  it('counts nouns', () => {
    expect([0, 1, 2].map((n) => count(n, 'image'))).toEqual(['0 images', '1 image', '2 images']);
  });
});
