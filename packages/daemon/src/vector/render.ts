import { createRequire } from 'node:module';
import type { Image8 } from '../image/image8';

interface ResvgModule {
  Resvg: new (svg: string, options?: { fitTo?: { mode: 'width'; value: number }; font?: { loadSystemFonts: boolean } }) => {
    render(): { width: number; height: number; pixels: Buffer };
  };
}

let resvg: ResvgModule | undefined;

/**
 * An SVG rendered at `width` pixels wide with resvg (straight RGBA), which is how the
 * vectoriser checks its own output against the raster it traced. The SVGs have no text, so no
 * fonts are loaded (scanning the system's fonts would cost more than the rendering).
 */
export function renderSvg(svg: string, width: number): Image8 {
  const { Resvg } = loadResvg();
  const rendered = new Resvg(svg, { fitTo: { mode: 'width', value: width }, font: { loadSystemFonts: false } }).render();
  // resvg hands out its premultiplied pixmap (a getter that copies it: read once); images here
  // carry straight alpha, as PNGs do.
  const data = new Uint8Array(rendered.pixels);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) data[i + c] = Math.min(255, Math.round((data[i + c] * 255) / a));
  }
  return { width: rendered.width, height: rendered.height, channels: 4, data };
}

/** The native renderer, loaded on first use. */
export function loadResvg(): ResvgModule {
  if (!resvg) {
    const require = createRequire(import.meta.url);
    try {
      resvg = require('@resvg/resvg-js') as ResvgModule;
    } catch (e) {
      throw new Error(`SVG output needs @resvg/resvg-js's native build for ${process.platform}-${process.arch}, which did not load (${(e as Error).message}); reinstall with npm ci on this machine`, { cause: e });
    }
  }
  return resvg;
}
