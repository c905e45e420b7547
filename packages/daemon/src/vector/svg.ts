import type { PaletteColour } from './palette';
import type { TracedLayer } from './trace';

/**
 * The SVG of traced layers, bottom first: a viewBox in source pixels (so it scales to any size),
 * one filled path per colour, nothing else: no raster, no background shape unless the
 * background is one of the layers. Coordinates have two decimals, a hundredth of a pixel.
 */
export function svgDocument(width: number, height: number, layers: readonly TracedLayer[], palette: readonly PaletteColour[]): string {
  const paths = layers.map((l) => `<path fill="${palette[l.colour].hex}" d="${l.d}"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${paths}</svg>`;
}

/**
 * svgo's default preset (relative, shortened path data; short hex colours) at the tracer's two
 * decimals.
 */
export async function optimiseSvg(svg: string): Promise<string> {
  // Loaded on first use: svgo takes a noticeable fraction of a second to import.
  const { optimize } = await import('svgo');
  return optimize(svg, {
    multipass: false,
    plugins: [{ name: 'preset-default', params: { overrides: { convertPathData: { floatPrecision: 2 }, cleanupNumericValues: { floatPrecision: 2 } } } }],
  }).data;
}
