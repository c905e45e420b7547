// The Node side of the Figma host: serves a page standing in for Figma on loopback (so that the
// UI's connection to a daemon on loopback crosses no network boundary), loads the built plugin
// into it (figma-page/host-page.ts) and drives it through playwright-core. The plugin's network policy
// is the manifest's `networkAccess.allowedDomains`, turned into the UI frame's
// Content-Security-Policy as Figma does; the test daemon listens on a free port, so the manifest's
// loopback entries allow any port on their host.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import type { BuiltPlugin } from '../../support/figma-plugin-host';
import { pluginDir } from '../../support/figma-plugin-host';
import type { Call, NodeSnapshot, Rect } from '../../support/figma-stub';

const root = join(import.meta.dirname, '../../..');

/** Where README screenshots go when STYLESET_UPDATE_SCREENSHOTS=1; otherwise a temporary folder, so a normal run leaves the tree clean. */
export const SCREENSHOT_DIR = process.env.STYLESET_UPDATE_SCREENSHOTS === '1' ? join(root, 'docs/images/figma') : join(tmpdir(), 'styleset-figma-screenshots');

const PAGE_STYLE = `
  html, body { margin: 0; height: 100%; font: 12px/1.4 Inter, system-ui, sans-serif; }
  body { display: flex; background: #e5e5e5; overflow: hidden; }
  #canvas { position: relative; flex: 1; overflow: hidden; }
  .document { position: absolute; inset: 0; }
  .node { position: absolute; box-sizing: border-box; }
  .node > img { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
  .node.frame { overflow: visible; box-shadow: 0 0 0 1px rgb(0 0 0 / 0.06); }
  .node.selected { outline: 2px solid #0d99ff; outline-offset: 0; z-index: 1; }
  .label { position: absolute; bottom: 100%; left: 0; margin-bottom: 4px; color: #777; font-size: 11px; white-space: nowrap; }
  #plugin {
    flex: none; align-self: flex-start; margin: 16px 16px 0 0; background: #fff; border-radius: 8px;
    box-shadow: 0 2px 14px rgb(0 0 0 / 0.15), 0 0 0 0.5px rgb(0 0 0 / 0.2); overflow: hidden;
  }
  #plugin .title { height: 40px; line-height: 40px; padding: 0 12px; font-weight: 600; border-bottom: 1px solid #e5e5e5; }
  #plugin iframe { display: block; border: 0; }
`;

/** The manifest's allowed domains as a CSP source list; loopback entries with any port (see above). */
export async function connectSrcFromManifest(): Promise<string> {
  const manifest = JSON.parse(await readFile(join(pluginDir, 'manifest.json'), 'utf8')) as { networkAccess?: { allowedDomains?: string[] } };
  const domains = manifest.networkAccess?.allowedDomains ?? ['*'];
  if (domains.includes('none')) return "'none'";
  return domains.map((domain) => domain.replace(/^(wss?:\/\/(?:127\.0\.0\.1|localhost|\[::1\])):\d+$/, '$1:*')).join(' ');
}

export interface FigmaHostServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the host page, its script bundled from figma-page/host-page.ts. */
export async function serveHostPage(): Promise<FigmaHostServer> {
  const bundle = await build({ entryPoints: [join(import.meta.dirname, 'figma-page/host-page.ts')], bundle: true, format: 'iife', target: 'es2022', write: false, logLevel: 'warning' });
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Figma (test host)</title><style>${PAGE_STYLE}</style></head>
<body><div id="canvas"></div><div id="plugin"><div class="title"></div></div><script>${bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script')}</script></body></html>`;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/') {
      // The browser's own requests (a favicon): nothing, and nothing for the page to log.
      response.writeHead(204).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface HostRecord {
  calls: Call[];
  notices: { message: string; options?: { error?: boolean; timeout?: number } }[];
  history: string[][];
  storage: { [key: string]: unknown };
  shownUi?: { [key: string]: unknown };
  paintStyles: { name: string; paints: { type: string; color?: { r: number; g: number; b: number } }[] }[];
}

/** The plugin open in a fresh page, as Figma opens it: main thread running, UI loaded and ready. */
export async function openFigmaHost(browser: Browser, server: FigmaHostServer, plugin: BuiltPlugin, storage: { [key: string]: unknown } = {}) {
  const page: Page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(server.url);
  const connectSrc = await connectSrcFromManifest();
  await page.evaluate((options) => (globalThis as unknown as HostGlobal).figmaHost.start(options), { codeJs: plugin.codeJs, uiHtml: plugin.uiHtml, connectSrc, storage });
  const ui: FrameLocator = page.frameLocator('#plugin iframe');
  // Ready once the main thread answered the UI's `ready`.
  await page.waitForFunction(() => (globalThis as unknown as HostGlobal).figmaHost.record().calls.some((call) => call.api === 'clientStorage.getAsync'));
  const host = {
    page,
    ui,
    /** Errors the page or the plugin's frames logged: a clean run has none. */
    errors,
    addFrame: (name: string, box: Partial<Rect>, parentId?: string) => page.evaluate(([n, b, p]) => (globalThis as unknown as HostGlobal).figmaHost.addFrame(n, b, p), [name, box, parentId] as const),
    addImage: (name: string, box: Partial<Rect>, png: Uint8Array, parentId?: string) =>
      page.evaluate(([n, b, data, p]) => (globalThis as unknown as HostGlobal).figmaHost.addImage(n, b, data, p), [name, box, Buffer.from(png).toString('base64'), parentId] as const),
    select: (ids: string[]) => page.evaluate((list) => (globalThis as unknown as HostGlobal).figmaHost.select(list), ids),
    deleteNode: (id: string) => page.evaluate((node) => (globalThis as unknown as HostGlobal).figmaHost.deleteNode(node), id),
    deleteFrameAfterPlaced: (count: number) => page.evaluate((n) => (globalThis as unknown as HostGlobal).figmaHost.deleteFrameAfterPlaced(n), count),
    pressUndo: () => page.evaluate(() => (globalThis as unknown as HostGlobal).figmaHost.pressUndo()),
    snapshot: (): Promise<NodeSnapshot[]> => page.evaluate(() => (globalThis as unknown as HostGlobal).figmaHost.snapshot()),
    selection: () => page.evaluate(() => (globalThis as unknown as HostGlobal).figmaHost.selection()),
    /** Resolves when Figma has shown the `count`-th toast: the main thread's summary of a run. */
    untilNotice: (count: number, timeout = 170_000) =>
      page.waitForFunction((n) => (globalThis as unknown as HostGlobal).figmaHost.record().notices.length >= n, count, { timeout, polling: 100 }),
    record: (): Promise<HostRecord> => page.evaluate(() => JSON.parse(JSON.stringify((globalThis as unknown as HostGlobal).figmaHost.record()))),
    image: async (hash: string) => new Uint8Array(Buffer.from(await page.evaluate((h) => (globalThis as unknown as HostGlobal).figmaHost.imageBase64(h), hash), 'base64')),
    /** A screenshot of the canvas and the plugin window, once everything on them is drawn. */
    async screenshot(name: string): Promise<string> {
      await page.evaluate(() => (globalThis as unknown as HostGlobal).figmaHost.drawn());
      // Page-side code as text: this project is typed for Node.
      await ui.locator('body').evaluate('Promise.all(Array.from(document.images, (img) => img.decode().catch(() => undefined)))');
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await writeFile(path, await page.screenshot({ animations: 'disabled', caret: 'hide' }));
      return path;
    },
    close: () => page.close(),
  };
  return host;
}

export type FigmaHost = Awaited<ReturnType<typeof openFigmaHost>>;

/** The page's `figmaHost` (figma-page/host-page.ts), as the tests call it through page.evaluate. */
interface HostGlobal {
  figmaHost: {
    start(options: { codeJs: string; uiHtml: string; connectSrc: string; storage?: { [key: string]: unknown } }): void;
    addFrame(name: string, box: Partial<Rect>, parentId?: string): string;
    addImage(name: string, box: Partial<Rect>, pngBase64: string, parentId?: string): string;
    select(ids: string[]): void;
    deleteNode(id: string): void;
    deleteFrameAfterPlaced(count: number): void;
    pressUndo(): string[];
    snapshot(): NodeSnapshot[];
    selection(): string[];
    imageBase64(hash: string): string;
    record(): HostRecord;
    drawn(): Promise<void>;
  };
}
