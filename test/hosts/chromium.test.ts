import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('the host-test browser', () => {
  it('is a real Chromium that runs scripts in a frame sandboxed as Figma sandboxes plugin windows', async () => {
    expect(browser.version()).toMatch(/^\d+\./);
    const page = await browser.newPage();
    try {
      // Figma's plugin window: scripts only, no forms, no same origin (so its origin is "null").
      // Page-side code as text: the test project is typed for Node, not the DOM.
      const message = await page.evaluate(`new Promise((resolve) => {
        addEventListener('message', (e) => resolve(e.data), { once: true });
        const frame = document.createElement('iframe');
        frame.setAttribute('sandbox', 'allow-scripts');
        frame.srcdoc = "<script>parent.postMessage({ origin: self.origin, sum: 2 + 3 }, '*')</script>";
        document.body.append(frame);
      })`);
      expect(message).toEqual({ origin: 'null', sum: 5 });
    } finally {
      await page.close();
    }
  });
});
