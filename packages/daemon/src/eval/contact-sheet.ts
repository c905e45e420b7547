import type { Image8 } from '../image/image8';

export interface SheetLayout {
  /** Integer upscaling (nearest neighbour), so 64 px icons stay legible on a page. */
  scale: number;
  /** Pixels between tiles of a block, and between blocks. */
  gap: number;
  blockGap: number;
  background: readonly [number, number, number];
}

export const DEFAULT_LAYOUT: SheetLayout = { scale: 2, gap: 4, blockGap: 24, background: [255, 255, 255] };

/**
 * Rows of blocks of tiles on one RGB canvas: a row per example set, a block per condition.
 * Every tile takes the largest tile's cell size; smaller ones sit in the cell's top-left corner.
 */
export function contactSheet(rows: readonly (readonly (readonly Image8[])[])[], layout: SheetLayout = DEFAULT_LAYOUT): Image8 {
  const tiles = rows.flat(2);
  const cellW = Math.max(0, ...tiles.map((t) => t.width)) * layout.scale;
  const cellH = Math.max(0, ...tiles.map((t) => t.height)) * layout.scale;
  const rowWidth = (row: readonly (readonly Image8[])[]): number =>
    row.reduce((w, block, b) => w + (b > 0 ? layout.blockGap : 0) + block.length * cellW + Math.max(0, block.length - 1) * layout.gap, 0);
  const width = Math.max(0, ...rows.map(rowWidth)) + 2 * layout.gap;
  const height = rows.length * (cellH + layout.gap) + layout.gap;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(layout.background, 3 * p);

  rows.forEach((row, r) => {
    const top = layout.gap + r * (cellH + layout.gap);
    let left = layout.gap;
    row.forEach((block, b) => {
      if (b > 0) left += layout.blockGap - layout.gap;
      for (const tile of block) {
        blit(data, width, tile, left, top, layout.scale);
        left += cellW + layout.gap;
      }
    });
  });
  return { width, height, channels: 3, data };
}

function blit(dst: Uint8Array, dstWidth: number, tile: Image8, left: number, top: number, scale: number): void {
  for (let y = 0; y < tile.height * scale; y++) {
    for (let x = 0; x < tile.width * scale; x++) {
      const s = (Math.floor(y / scale) * tile.width + Math.floor(x / scale)) * tile.channels;
      const d = ((top + y) * dstWidth + left + x) * 3;
      dst[d] = tile.data[s];
      dst[d + 1] = tile.data[s + 1];
      dst[d + 2] = tile.data[s + 2];
    }
  }
}
