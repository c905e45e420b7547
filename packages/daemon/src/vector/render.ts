import { createRequire } from 'node:module';
import type { Image8 } from '../image/image8';

interface ResvgModule {
  Resvg: new (svg: string, options?: { fitTo?: { mode: 'width'; value: number }; font?: { loadSystemFonts: boolean } }) => {
    render(): { width: number; height: number; pixels: Buffer };
  };
}

let resvg: ResvgModule | undefined;

/**
 * An SVG rendered at `width` pixels wide with resvg (RGBA, not premultiplied), which is how the
 * vectoriser checks its own output against the raster it traced. The SVGs have no text, so no
 * fonts are loaded (scanning the system's fonts would cost more than the rendering).
 */
export function renderSvg(svg: string, width: number): Image8 {
  if (!resvg) {
    const require = createRequire(import.meta.url);
    try {
      resvg = require('@resvg/resvg-js') as ResvgModule;
    } catch (e) {
      throw new Error(`SVG output needs @resvg/resvg-js's native build for ${process.platform}-${process.arch}, which did not load (${(e as Error).message}); reinstall with npm ci on this machine`, { cause: e });
    }
  }
  const rendered = new resvg.Resvg(svg, { fitTo: { mode: 'width', value: width }, font: { loadSystemFonts: false } }).render();
  return { width: rendered.width, height: rendered.height, channels: 4, data: new Uint8Array(rendered.pixels) };
}
