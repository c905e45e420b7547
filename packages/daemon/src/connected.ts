/**
 * 8-connected flood fill over a width x height raster, from `seeds` (which the caller has marked
 * as it needs): each pixel `enter` accepts is visited and grows the fill in turn. `enter` is
 * asked about every neighbour of a visited pixel, once per neighbour visit, so it marks what it
 * accepts and refuses what it marked before; that is how a caller labels, collects or grows a region.
 */
export function flood8(width: number, height: number, seeds: Iterable<number>, enter: (pixel: number) => boolean): void {
  const stack = [...seeds];
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const ny = y + dy;
      if (ny < 0 || ny >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        if (nx < 0 || nx >= width || (dx === 0 && dy === 0)) continue;
        const j = ny * width + nx;
        if (enter(j)) stack.push(j);
      }
    }
  }
}
