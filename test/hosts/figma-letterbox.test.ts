// The UI's letterboxing of an exported layer whose shape is not the model's, run where it runs in
// Figma: in a frame sandboxed with `allow-scripts` only (origin "null"), on Chromium's canvas.
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePng } from '../../packages/daemon/src/image/png';
import { launchChromium } from './support/chromium';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
  const bundle = await build({
    stdin: {
      contents: "import { letterbox } from './packages/figma-plugin/src/ui/letterbox'; Object.assign(self, { letterbox });",
      resolveDir: join(import.meta.dirname, '../..'),
    },
    bundle: true,
    format: 'iife',
    write: false,
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  // The frame answers each request { png, width, height } with the letterboxed bytes, or an error.
  const frame = `<script>${script}
addEventListener('message', async (event) => {
  try {
    const out = await letterbox(new Uint8Array(event.data.png), event.data.width, event.data.height);
    parent.postMessage({ origin: self.origin, png: Array.from(out) }, '*');
  } catch (error) { parent.postMessage({ error: String(error) }, '*'); }
});
parent.postMessage('ready', '*');<\/script>`;
  await page.setContent('<body></body>');
  // Page-side code as text: this project is typed for Node.
  await page.evaluate(`new Promise((resolve) => {
    addEventListener('message', function ready(event) {
      if (event.data !== 'ready') return;
      removeEventListener('message', ready);
      resolve();
    });
    const iframe = document.createElement('iframe');
    iframe.setAttribute('sandbox', 'allow-scripts');
    iframe.srcdoc = ${JSON.stringify(frame)};
    document.body.append(iframe);
  })`);
});

afterAll(async () => {
  await browser?.close();
});

async function letterboxed(png: Uint8Array, width: number, height: number): Promise<{ origin: string; png: Uint8Array }> {
  const request = JSON.stringify({ png: Array.from(png), width, height });
  const answer = (await page.evaluate(`new Promise((resolve) => {
    addEventListener('message', (event) => resolve(event.data), { once: true });
    document.querySelector('iframe').contentWindow.postMessage(${request}, '*');
  })`)) as { origin?: string; png?: number[]; error?: string };
  if (answer.error !== undefined) throw new Error(answer.error);
  return { origin: answer.origin!, png: new Uint8Array(answer.png!) };
}

/** A solid red PNG of the given size. */
const red = (width: number, height: number) => {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data[i] = 255;
  return new Uint8Array(encodePng({ width, height, channels: 3, data }));
};

describe('letterbox, in Figma’s sandboxed frame', () => {
  it('centres a wide export on a transparent square of the model’s size, uncropped', async () => {
    const { origin, png } = await letterboxed(red(64, 32), 64, 64);
    expect(origin).toBe('null');
    const image = PNG.sync.read(Buffer.from(png));
    expect([image.width, image.height]).toEqual([64, 64]);
    const alpha = (x: number, y: number) => image.data[(y * 64 + x) * 4 + 3];
    const pixel = (x: number, y: number) => [...image.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4)];
    // Rows 16 to 47 hold the image, whole; the 16 rows above and below are transparent.
    for (const y of [0, 15, 48, 63]) for (const x of [0, 31, 63]) expect(alpha(x, y), `${x},${y}`).toBe(0);
    for (const y of [16, 31, 47]) for (const x of [0, 31, 63]) expect(pixel(x, y), `${x},${y}`).toEqual([255, 0, 0, 255]);
  });

  it('scales a tall export down to fit, centred side to side', async () => {
    const { png } = await letterboxed(red(40, 160), 64, 64);
    const image = PNG.sync.read(Buffer.from(png));
    expect([image.width, image.height]).toEqual([64, 64]);
    // 40 x 160 scaled by 64/160 is 16 x 64, from x = 24 to 39.
    const alpha = (x: number) => image.data[(32 * 64 + x) * 4 + 3];
    expect([alpha(23), alpha(24), alpha(39), alpha(40)]).toEqual([0, 255, 255, 0]);
  });

  it('returns an export that already has the model’s size as it is, byte for byte', async () => {
    const square = red(64, 64);
    expect((await letterboxed(square, 64, 64)).png).toEqual(square);
  });
});
