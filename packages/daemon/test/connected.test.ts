import { describe, expect, it } from 'vitest';
import { flood8 } from '../src/connected';

/** Rows of '#' (set) and '.' into a mask. */
function raster(rows: string[]): { width: number; height: number; set: Uint8Array } {
  return { width: rows[0].length, height: rows.length, set: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)) };
}

function fill(rows: string[], seed: number): string[] {
  const { width, height, set } = raster(rows);
  const seen = new Uint8Array(set.length);
  seen[seed] = 1;
  flood8(width, height, [seed], (j) => {
    if (!set[j] || seen[j]) return false;
    seen[j] = 1;
    return true;
  });
  return rows.map((_, y) => Array.from({ length: width }, (_, x) => (seen[y * width + x] ? 'o' : rows[y][x])).join(''));
}

describe('flood8', () => {
  it('fills the 8-connected region of its seed, diagonals included, and nothing else', () => {
    expect(fill(['##..#', '..#.#', '...#.', '#....'], 0)).toEqual(['oo..o', '..o.o', '...o.', '#....']);
  });

  it('stops at the raster edges (no wrap from one row end to the next)', () => {
    expect(fill(['...#', '#...'], 3)).toEqual(['...o', '#...']);
  });

  it('asks about each neighbour, so a caller can refuse what it marked', () => {
    const asked: number[] = [];
    flood8(3, 3, [4], (j) => (asked.push(j), false));
    expect(asked.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 5, 6, 7, 8]);
  });
});
