// The Figma plugin as Figma runs it, in Node: the built main thread (dist/code.js) against the
// `figma` stub (figma-stub.ts) and the built panel (dist/ui.html) in a happy-dom window, the two
// wired by `postMessage` the way Figma wires them. No browser: the Chromium host tests
// (test/hosts/figma-*) run the same build and the same stub in a real one.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Window } from 'happy-dom';
import type { MainToUi, UiToMain } from '../../packages/figma-plugin/src/messages';
import { FigmaStub, runMainThread, type StubNode } from './figma-stub';

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

/** Node has no renderer: an export is the bytes of the node's image fill, as the fixture put it there. */
export function nodeStub(storage: Record<string, unknown> = {}): FigmaStub {
  return new FigmaStub({
    storage,
    render: async (node, _settings, images) => {
      const fill = node.fills.find((paint) => paint.type === 'IMAGE');
      if (fill === undefined) throw new Error(`Failed to export “${node.name}”: the Node host renders image fills only`);
      return images.get(fill.imageHash)!.slice();
    },
  });
}

/** Client storage holding a token for the local daemon, as the plugin saves it. */
export const storedToken = (token: string, url = 'ws://127.0.0.1:7391') => ({ 'styleset.settings': { url, tokens: { [url]: token } } });

/** The main thread alone, messages from the UI sent by the test: what it posts back is recorded. */
export function startMainThread(codeJs: string, stub: FigmaStub = nodeStub()) {
  const posted: MainToUi[] = [];
  stub.deliverToUi = (message) => posted.push(message as MainToUi);
  runMainThread(codeJs, stub, '<p>ui</p>');
  return {
    stub,
    posted,
    /** Sends a message as the UI would, and lets the main thread's queue finish with it. */
    async send(message: UiToMain): Promise<void> {
      stub.receive(message);
      await settleMainThread();
    },
  };
}

export type MainThread = ReturnType<typeof startMainThread>;

/** The main thread handles messages one at a time through promises; a few macrotasks let it finish. */
export async function settleMainThread(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The main thread after the `ready` a loaded UI sends, with its answer posted. */
export async function loadMainThread(codeJs: string, stub: FigmaStub = nodeStub()): Promise<MainThread> {
  const main = startMainThread(codeJs, stub);
  await main.send({ type: 'ready' });
  return main;
}

/** The layers the plugin placed in a frame, by name, with their place and size. */
export const layersOf = (frame: StubNode) => frame.children.map((node) => ({ name: node.name, x: node.x, y: node.y, width: node.width, height: node.height }));

/** The bytes of a layer's image fill. */
export function imageOf(stub: FigmaStub, node: StubNode): Uint8Array | undefined {
  const fill = node.fills.find((paint) => paint.type === 'IMAGE');
  return fill === undefined ? undefined : stub.images.get(fill.imageHash);
}

export interface PanelOptions {
  stub?: FigmaStub;
  /** Where the panel's WebSocket really connects: the test's daemon instead of the address in the settings. */
  daemonUrl?: string;
}

/**
 * The built panel in a window of the plugin's size, wired to the built main thread. Messages cross
 * asynchronously both ways, as between Figma's iframe and its main thread. The frame is sandboxed
 * as Figma's is (`allow-scripts` only): without `allow-forms` the browser never fires `submit`,
 * which a capture listener here stands for.
 */
export async function openPanel(built: BuiltPlugin, options: PanelOptions = {}) {
  const stub = options.stub ?? nodeStub();
  const received: UiToMain[] = [];
  const window = new Window({
    width: 340,
    height: 640,
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
        received.push(data.pluginMessage);
        setTimeout(() => stub.receive(data.pluginMessage));
      },
    },
  });
  stub.deliverToUi = (message) =>
    setTimeout(() => window.dispatchEvent(new window.MessageEvent('message', { data: { pluginMessage: message } })));
  runMainThread(built.codeJs, stub, built.uiHtml);
  window.document.write(built.uiHtml);
  const document = window.document;
  const panel = {
    window,
    document,
    stub,
    received,
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
  await panel.until(() => stub.calls.some((call) => call.api === 'clientStorage.getAsync'), 'the main thread answered ready');
  await panel.settle();
  return panel;
}

export type Panel = Awaited<ReturnType<typeof openPanel>>;
