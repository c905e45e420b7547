// The page Figma would be, in Chromium: the built main thread (code.js) runs here against the
// `figma` stub, the built UI runs in an iframe sandboxed as Figma's plugin window is
// (`allow-scripts` only: origin "null", no forms), and the two talk by postMessage as Figma wires
// them. The stub's document is drawn on a canvas beside the plugin window, so that a screenshot
// shows what the plugin did. Bundled by ../figma-host.ts (esbuild) into the page; driven through
// `window.figmaHost` by the tests.
import { FigmaStub, runMainThread, type ExportSettings, type NodeSnapshot, type Rect, type StubNode } from '../../../support/figma-stub';

interface StartOptions {
  /** The main thread, as built. */
  codeJs: string;
  /** The UI, as built: Figma hands it to the main thread as `__html__`. */
  uiHtml: string;
  /** What Figma's network policy for the plugin lets the UI connect to (from the manifest). */
  connectSrc: string;
  storage?: Record<string, unknown>;
}

const canvasArea = document.getElementById('canvas')!;
const pluginWindow = document.getElementById('plugin')!;

let stub: FigmaStub;
let iframe: HTMLIFrameElement;
const objectUrls = new Map<string, string>();
/** Test hooks run after the main thread placed a layer into a frame: `afterPlaced(count)`. */
let afterPlaced: ((frame: StubNode, count: number) => void) | undefined;
let placedCount = 0;

const toBase64 = (bytes: Uint8Array) => btoa(Array.from(bytes, (byte) => String.fromCharCode(byte)).join(''));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

function imageUrl(hash: string): string {
  let url = objectUrls.get(hash);
  if (url === undefined) {
    url = URL.createObjectURL(new Blob([stub.images.get(hash)!.slice()], { type: 'image/png' }));
    objectUrls.set(hash, url);
  }
  return url;
}

const svgUrl = (svg: string) => `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;

async function bitmapOf(url: string): Promise<ImageBitmap> {
  const image = new Image();
  image.src = url;
  await image.decode();
  return createImageBitmap(image);
}

/** Draws a node (and its children) as Figma's export would: fills, image fills fitted, SVGs. */
async function draw(context: OffscreenCanvasRenderingContext2D, node: StubNode, x: number, y: number, scale: number): Promise<void> {
  const w = node.width * scale;
  const h = node.height * scale;
  for (const fill of node.fills) {
    if (fill.type === 'SOLID') {
      const { r, g, b } = fill.color;
      context.fillStyle = `rgb(${r * 255} ${g * 255} ${b * 255})`;
      context.fillRect(x, y, w, h);
    } else {
      const bitmap = await bitmapOf(imageUrl(fill.imageHash));
      const fit = Math.min(w / bitmap.width, h / bitmap.height);
      context.drawImage(bitmap, x + (w - bitmap.width * fit) / 2, y + (h - bitmap.height * fit) / 2, bitmap.width * fit, bitmap.height * fit);
    }
  }
  if (node.svg !== undefined) context.drawImage(await bitmapOf(svgUrl(node.svg)), x, y, w, h);
  for (const child of node.children) await draw(context, child, x + child.x * scale, y + child.y * scale, scale);
}

async function renderExport(node: StubNode, settings: ExportSettings): Promise<Uint8Array> {
  if (settings.format !== 'PNG') throw new Error(`the host exports PNG only, not ${settings.format}`);
  const { constraint } = settings;
  const scale = constraint === undefined ? 1 : constraint.type === 'SCALE' ? constraint.value : constraint.type === 'WIDTH' ? constraint.value / node.width : constraint.value / node.height;
  const canvas = new OffscreenCanvas(Math.max(1, Math.round(node.width * scale)), Math.max(1, Math.round(node.height * scale)));
  await draw(canvas.getContext('2d')!, node, 0, 0, scale);
  return new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
}

// ---- the canvas: the stub's document, zoomed to fit, selection outlined as Figma does ----

let drawScheduled = false;

function scheduleDraw(): void {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    drawCanvas();
  });
}

function bounds(nodes: readonly StubNode[]): Rect | undefined {
  if (nodes.length === 0) return undefined;
  const boxes = nodes.map((node) => node.absoluteBoundingBox);
  const x = Math.min(...boxes.map((b) => b.x));
  const y = Math.min(...boxes.map((b) => b.y));
  return { x, y, width: Math.max(...boxes.map((b) => b.x + b.width)) - x, height: Math.max(...boxes.map((b) => b.y + b.height)) - y };
}

function drawCanvas(): void {
  const area = canvasArea.getBoundingClientRect();
  const all = bounds(stub.page.children) ?? { x: 0, y: 0, width: 1, height: 1 };
  const margin = 60;
  const zoom = Math.min(3, (area.width - 2 * margin) / all.width, (area.height - 2 * margin) / all.height);
  const left = (area.width - all.width * zoom) / 2 - all.x * zoom;
  const top = (area.height - all.height * zoom) / 2 - all.y * zoom;
  const selected = new Set(stub.api.currentPage.selection.map((node) => node.id));
  const layer = document.createElement('div');
  layer.className = 'document';
  for (const node of stub.page.children) layer.append(element(node, left + node.x * zoom, top + node.y * zoom, zoom, selected, true));
  canvasArea.replaceChildren(layer);
}

function element(node: StubNode, x: number, y: number, zoom: number, selected: Set<string>, topLevel: boolean): HTMLElement {
  const box = document.createElement('div');
  box.className = `node ${node.type.toLowerCase()}`;
  box.dataset.id = node.id;
  Object.assign(box.style, { left: `${x}px`, top: `${y}px`, width: `${node.width * zoom}px`, height: `${node.height * zoom}px` });
  for (const fill of node.fills) {
    if (fill.type === 'SOLID') box.style.background = `rgb(${fill.color.r * 255} ${fill.color.g * 255} ${fill.color.b * 255})`;
    else box.append(picture(imageUrl(fill.imageHash)));
  }
  if (node.svg !== undefined) box.append(picture(svgUrl(node.svg)));
  for (const child of node.children) box.append(element(child, child.x * zoom, child.y * zoom, zoom, selected, false));
  if (topLevel && node.type === 'FRAME') {
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = node.snapshot().name;
    box.append(label);
  }
  if (selected.has(node.id)) box.classList.add('selected');
  return box;
}

function picture(url: string): HTMLImageElement {
  const img = document.createElement('img');
  img.src = url;
  return img;
}

// ---- the plugin window: the UI iframe, as Figma's ----

function showUi(html: string, options: Record<string, unknown>, connectSrc: string): void {
  iframe = document.createElement('iframe');
  // Figma's plugin window: scripts only (no forms, no same origin), and its network policy.
  iframe.setAttribute('sandbox', 'allow-scripts');
  const policy = `<meta http-equiv="Content-Security-Policy" content="connect-src ${connectSrc}">`;
  iframe.srcdoc = html.replace(/<head>/i, `<head>${policy}`);
  iframe.width = String(options.width ?? 300);
  iframe.height = String(options.height ?? 200);
  pluginWindow.querySelector('.title')!.textContent = String(options.title ?? 'Plugin');
  pluginWindow.append(iframe);
  window.addEventListener('message', (event) => {
    if (event.source !== iframe.contentWindow) return;
    const message = (event.data as { pluginMessage?: unknown } | undefined)?.pluginMessage;
    if (message !== undefined) stub.receive(message);
  });
}

const figmaHost = {
  start(options: StartOptions): void {
    stub = new FigmaStub({ storage: options.storage, render: (node, settings) => renderExport(node, settings) });
    stub.onChange = (node, what) => {
      scheduleDraw();
      if (what === 'append' && node.parent?.type === 'FRAME' && afterPlaced !== undefined) {
        const frame = node.parent;
        const count = ++placedCount;
        // After the main thread's handler is done with this layer, as a designer's action would be.
        queueMicrotask(() => afterPlaced?.(frame, count));
      }
    };
    stub.api.on('selectionchange', scheduleDraw);
    stub.deliverToUi = (message) => iframe.contentWindow!.postMessage({ pluginMessage: message }, '*');
    const showUI = stub.api.showUI;
    stub.api.showUI = (html, uiOptions = {}) => {
      showUI(html, uiOptions);
      showUi(html, uiOptions, options.connectSrc);
    };
    runMainThread(options.codeJs, stub, options.uiHtml);
    scheduleDraw();
  },
  addFrame(name: string, box: Partial<Rect>, parentId?: string): string {
    return stub.add('FRAME', name, box, parentId === undefined ? stub.page : stub.nodeById(parentId)!, [{ type: 'SOLID', color: { r: 1, g: 1, b: 1 } }]).id;
  },
  addImage(name: string, box: Partial<Rect>, pngBase64: string, parentId?: string): string {
    const hash = stub.addImage(fromBase64(pngBase64));
    const parent = parentId === undefined ? stub.page : stub.nodeById(parentId)!;
    return stub.add('RECTANGLE', name, box, parent, [{ type: 'IMAGE', imageHash: hash, scaleMode: 'FIT' }]).id;
  },
  select(ids: string[]): void {
    stub.select(ids.map((id) => stub.nodeById(id)!));
  },
  deleteNode(id: string): void {
    stub.deleteNode(stub.nodeById(id)!);
  },
  /** After the `count`-th layer the plugin puts in a frame, the designer deletes that frame. */
  deleteFrameAfterPlaced(count: number): void {
    afterPlaced = (frame, placed) => {
      if (placed !== count) return;
      stub.deleteNode(frame);
      afterPlaced = undefined;
    };
  },
  pressUndo(): string[] {
    return stub.pressUndo();
  },
  snapshot(): NodeSnapshot[] {
    return stub.snapshot();
  },
  selection(): string[] {
    return stub.api.currentPage.selection.map((node) => node.id);
  },
  imageBase64(hash: string): string {
    return toBase64(stub.images.get(hash)!);
  },
  record() {
    return {
      calls: stub.calls,
      notices: stub.notices,
      history: stub.history,
      storage: Object.fromEntries(stub.storage),
      shownUi: stub.shownUi?.options,
      paintStyles: stub.paintStyles.map(({ name, paints }) => ({ name, paints })),
    };
  },
  /** Resolves once the canvas shows the document as it is now, its images decoded. */
  async drawn(): Promise<void> {
    drawCanvas();
    await Promise.all(Array.from(canvasArea.querySelectorAll("img")).map((img) => img.decode().catch(() => undefined)));
  },
};

Object.assign(window, { figmaHost });
