// The Figma plugin as Figma runs it, in Node: the built main thread (dist/code.js) in a VM against a
// stub of the `figma` API subset it uses, and the built panel (dist/ui.html) in a happy-dom window,
// the two wired by `postMessage` the way Figma wires them. No browser: Chromium host tests come later.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { Window } from 'happy-dom';
import type { MainToUi, UiToMain } from '../../packages/figma-plugin/src/messages';

export const pluginDir = join(import.meta.dirname, '../../packages/figma-plugin');

export interface BuiltPlugin {
  dir: string;
  codeJs: string;
  uiHtml: string;
}

/** Builds the plugin into a folder of its own, as the manifest's dist/ would hold it. */
export async function buildPlugin(): Promise<BuiltPlugin> {
  const dir = await mkdtemp(join(tmpdir(), 'styleset-figma-dist-'));
  await promisify(execFile)(process.execPath, [join(pluginDir, 'build.mjs'), dir]);
  const [codeJs, uiHtml] = await Promise.all([readFile(join(dir, 'code.js'), 'utf8'), readFile(join(dir, 'ui.html'), 'utf8')]);
  return { dir, codeJs, uiHtml };
}

export async function removeBuild(built: BuiltPlugin | undefined): Promise<void> {
  if (built !== undefined) await rm(built.dir, { recursive: true, force: true });
}

export interface FakeNode {
  type: string;
  layoutMode: string;
  name: string;
  width: number;
  height: number;
  x: number;
  y: number;
  /** Figma's flag for a node deleted from the document; the object stays usable. */
  removed: boolean;
  fills: unknown[];
  children: FakeNode[];
  resize(width: number, height: number): void;
  appendChild(node: FakeNode): void;
}

export function fakeNode(type: string, name: string, width = 0, height = 0): FakeNode {
  return {
    type,
    layoutMode: 'NONE',
    name,
    width,
    height,
    x: 0,
    y: 0,
    removed: false,
    fills: [],
    children: [],
    resize(w, h) {
      this.width = w;
      this.height = h;
    },
    appendChild(node) {
      // Figma throws on appending to a deleted node; the plugin must not try.
      if (this.removed) throw new Error(`The node (${this.name}) with id 1:1 does not exist`);
      this.children.push(node);
    },
  };
}

export interface Notice {
  message: string;
  options?: { error?: boolean; timeout?: number };
}

/** Just the parts of Figma's plugin API the main thread uses, recording what it did. */
export function fakeFigma(selection: FakeNode[], storedToken?: string) {
  const posted: MainToUi[] = [];
  /** What the UI sent the main thread, in order. */
  const received: UiToMain[] = [];
  const notices: Notice[] = [];
  const images = new Map<string, Uint8Array>();
  const storage = new Map<string, unknown>(storedToken === undefined ? [] : [['styleset.token', storedToken]]);
  const listeners = new Map<string, () => void>();
  /** Where the UI iframe receives what the main thread posts, once one is wired. */
  let toUi: ((message: MainToUi) => void) | undefined;
  const figma = {
    showUI: (html: string, options: object) => Object.assign(figma, { shown: { html, options } }),
    shown: undefined as { html: string; options: object } | undefined,
    ui: {
      postMessage: (message: MainToUi) => {
        posted.push(message);
        toUi?.(message);
      },
      onmessage: undefined as ((message: UiToMain) => void) | undefined,
    },
    on: (type: string, listener: () => void) => listeners.set(type, listener),
    currentPage: { selection },
    clientStorage: {
      getAsync: async (key: string) => storage.get(key),
      setAsync: async (key: string, value: unknown) => void storage.set(key, value),
    },
    createRectangle: () => fakeNode('RECTANGLE', 'Rectangle'),
    createImage: (bytes: Uint8Array) => {
      const hash = `image-${images.size}`;
      images.set(hash, bytes.slice());
      return { hash };
    },
    notify: (message: string, options?: Notice['options']) => void notices.push({ message, options }),
  };
  return {
    figma,
    posted,
    received,
    notices,
    images,
    storage,
    listeners,
    send: (message: UiToMain) => {
      received.push(message);
      figma.ui.onmessage!(message);
    },
    connectUi: (deliver: (message: MainToUi) => void) => (toUi = deliver),
  };
}

export type FakeFigma = ReturnType<typeof fakeFigma>;

export const imageOf = (fake: FakeFigma, node: FakeNode) => fake.images.get((node.fills[0] as { imageHash: string }).imageHash);

/** Runs the built main thread as Figma does: a classic script with `figma` and `__html__` as globals. */
export function startMainThread(codeJs: string, selection: FakeNode[], storedToken?: string): FakeFigma {
  const fake = fakeFigma(selection, storedToken);
  runInNewContext(codeJs, { figma: fake.figma, __html__: '<p>ui</p>' });
  return fake;
}

/** The main thread after the `ready` a loaded UI sends, with its answer posted. */
export async function loadMainThread(codeJs: string, selection: FakeNode[], storedToken?: string): Promise<FakeFigma> {
  const fake = startMainThread(codeJs, selection, storedToken);
  fake.send({ type: 'ready' });
  await new Promise((resolve) => setImmediate(resolve));
  return fake;
}

export interface PanelOptions {
  selection?: FakeNode[];
  storedToken?: string;
  /** Where the panel's WebSocket really connects: the test's daemon instead of the built-in address. */
  daemonUrl?: string;
}

/**
 * The built panel in a window of the plugin's size, wired to the built main thread. Messages cross
 * asynchronously both ways, as between Figma's iframe and its main thread. The frame is sandboxed
 * as Figma's is (`allow-scripts` only): without `allow-forms` the browser never fires `submit`,
 * which a capture listener here stands for.
 */
export async function openPanel(built: BuiltPlugin, options: PanelOptions = {}) {
  const main = startMainThread(built.codeJs, options.selection ?? [], options.storedToken);
  const window = new Window({
    width: 320,
    height: 520,
    settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true },
  });
  const blockedSubmissions: string[] = [];
  window.addEventListener(
    'submit',
    (event) => {
      blockedSubmissions.push((event.target as { id?: string }).id ?? '');
      event.preventDefault();
      event.stopImmediatePropagation();
    },
    { capture: true },
  );
  const socketUrls: string[] = [];
  if (options.daemonUrl !== undefined) {
    const daemonUrl = options.daemonUrl;
    const HappyWebSocket = window.WebSocket;
    Object.defineProperty(window, 'WebSocket', {
      configurable: true,
      value: class extends HappyWebSocket {
        constructor(url: string) {
          socketUrls.push(url);
          super(daemonUrl);
        }
      },
    });
  }
  // The iframe's parent is Figma, which hands `pluginMessage` to the main thread's `figma.ui.onmessage`.
  Object.defineProperty(window, 'parent', {
    configurable: true,
    value: {
      postMessage: (data: { pluginMessage: UiToMain }, targetOrigin: string) => {
        if (targetOrigin !== '*') throw new Error(`Figma's parent frame has no origin to name; got ${targetOrigin}`);
        setTimeout(() => main.send(data.pluginMessage));
      },
    },
  });
  main.connectUi((message) =>
    setTimeout(() => window.dispatchEvent(new window.MessageEvent('message', { data: { pluginMessage: message } }))),
  );
  window.document.write(built.uiHtml);
  const document = window.document;
  const panel = {
    window,
    document,
    main,
    blockedSubmissions,
    socketUrls,
    element: <T = ReturnType<typeof document.getElementById>>(id: string) => {
      const found = document.getElementById(id);
      if (found === null) throw new Error(`the panel has no #${id}`);
      return found as T;
    },
    /** Lets every message in flight between the two halves arrive. */
    settle: () => new Promise((resolve) => setTimeout(resolve, 20)),
    /** Waits until `condition` holds, polling as messages and frames arrive; fails after `ms`. */
    async until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
      const end = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > end) throw new Error(`the panel never reached: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => window.happyDOM.close(),
  };
  await panel.until(() => main.posted.some((message) => message.type === 'init'), 'the main thread answered ready');
  await panel.settle();
  return panel;
}

export type Panel = Awaited<ReturnType<typeof openPanel>>;
