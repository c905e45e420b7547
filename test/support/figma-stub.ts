// The subset of Figma's plugin API the Styleset plugin uses, as a document that records what the
// plugin did to it: nodes created, named, filled, moved, removed; exports; undo steps; storage;
// toasts. Plain TypeScript with no Node or DOM imports: the happy-dom host imports it, and the
// Chromium host bundles it into its page. Undo follows Figma's documented model: what the plugin
// does between two `figma.commitUndo()` calls is one undo step.

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ImagePaint {
  type: 'IMAGE';
  imageHash: string;
  scaleMode: string;
}

export interface SolidPaint {
  type: 'SOLID';
  color: { r: number; g: number; b: number };
  opacity?: number;
}

export type Paint = ImagePaint | SolidPaint;

export interface ExportSettings {
  format: string;
  constraint?: { type: 'SCALE' | 'WIDTH' | 'HEIGHT'; value: number };
}

/** One change the plugin made, and how to take it back. */
interface Change {
  what: string;
  revert(): void;
}

/** A node as the snapshot reports it: plain data, so it crosses from the browser to the test. */
export interface NodeSnapshot {
  id: string;
  type: string;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  fills: Paint[];
  pluginData: Record<string, string>;
  svg?: string;
  children: NodeSnapshot[];
}

export interface Call {
  api: string;
  args: unknown[];
}

export interface StubOptions {
  /** Renders a node for `exportAsync`: the browser host draws it, the Node host returns its image's bytes. */
  render(node: StubNode, settings: ExportSettings, images: ReadonlyMap<string, Uint8Array>): Promise<Uint8Array>;
  storage?: Record<string, unknown>;
  viewport?: Rect;
}

let stubCount = 0;

export class StubNode {
  readonly id: string;
  parent: StubNode | null = null;
  readonly children: StubNode[] = [];
  layoutMode = 'NONE';
  readonly visible = true;
  /** The SVG a `createNodeFromSvg` node was made from. */
  svg?: string;
  private state: { name: string; x: number; y: number; width: number; height: number; fills: Paint[] };
  private readonly data = new Map<string, string>();

  constructor(
    private readonly stub: FigmaStub,
    readonly type: string,
    name: string,
    box: Partial<Rect> = {},
  ) {
    this.id = `${stubCount}:${stub.nextNodeNumber()}`;
    this.state = { name, x: box.x ?? 0, y: box.y ?? 0, width: box.width ?? 100, height: box.height ?? 100, fills: [] };
  }

  get name(): string {
    this.checkAlive();
    return this.state.name;
  }
  set name(value: string) {
    this.change('name', value);
  }
  get x(): number {
    return this.state.x;
  }
  set x(value: number) {
    this.change('x', value);
  }
  get y(): number {
    return this.state.y;
  }
  set y(value: number) {
    this.change('y', value);
  }
  get width(): number {
    return this.state.width;
  }
  get height(): number {
    return this.state.height;
  }
  get fills(): Paint[] {
    return this.state.fills;
  }
  set fills(value: Paint[]) {
    this.change('fills', structuredClone(value));
  }

  resize(width: number, height: number): void {
    this.change('width', width);
    this.change('height', height);
  }

  /** Figma scales a node and its content uniformly; here the content is the SVG, drawn at the node's size. */
  rescale(scale: number): void {
    if (!(scale > 0)) throw new Error(`rescale needs a positive scale, not ${scale}`);
    this.resize(this.state.width * scale, this.state.height * scale);
  }

  /** Figma's flag for a node no longer in the document: deleted, or inside something deleted. */
  get removed(): boolean {
    let node: StubNode | null = this;
    while (node !== null && node.type !== 'PAGE') node = node.parent;
    return node === null;
  }

  get absoluteBoundingBox(): Rect {
    let x = 0;
    let y = 0;
    for (let node: StubNode | null = this; node !== null && node.type !== 'PAGE'; node = node.parent) {
      x += node.x;
      y += node.y;
    }
    return { x, y, width: this.width, height: this.height };
  }

  appendChild(child: StubNode): void {
    this.insertChild(this.children.length, child);
  }

  insertChild(index: number, child: StubNode): void {
    // Figma throws on adding to a deleted node; a plugin must not try.
    if (this.removed) throw new Error(`The node (${this.state.name}) with id ${this.id} does not exist`);
    child.detach();
    this.children.splice(index, 0, child);
    child.parent = this;
    this.stub.record(`insert ${child.type} “${child.state.name}” into “${this.state.name}”`, () => child.detach());
    this.stub.changed(child, 'append');
  }

  remove(): void {
    const { parent } = this;
    if (parent === null) return;
    const index = parent.children.indexOf(this);
    this.detach();
    this.stub.record(`remove ${this.type} “${this.state.name}”`, () => {
      parent.children.splice(index, 0, this);
      this.parent = parent;
    });
  }

  getPluginData(key: string): string {
    return this.data.get(key) ?? '';
  }

  setPluginData(key: string, value: string): void {
    const old = this.data.get(key);
    this.data.set(key, value);
    this.stub.record(`plugin data ${key} of “${this.state.name}”`, () => (old === undefined ? this.data.delete(key) : this.data.set(key, old)));
  }

  exportAsync(settings: ExportSettings = { format: 'PNG' }): Promise<Uint8Array> {
    this.stub.call('exportAsync', this.id, settings);
    return this.stub.render(this, settings);
  }

  snapshot(): NodeSnapshot {
    return {
      id: this.id,
      type: this.type,
      name: this.state.name,
      x: this.state.x,
      y: this.state.y,
      width: this.state.width,
      height: this.state.height,
      fills: structuredClone(this.state.fills),
      pluginData: Object.fromEntries(this.data),
      ...(this.svg === undefined ? {} : { svg: this.svg }),
      children: this.children.map((child) => child.snapshot()),
    };
  }

  /** A fixture's own state, set by the test rather than the plugin: not an undo step. */
  setInitial(change: Partial<{ name: string; x: number; y: number; width: number; height: number; fills: Paint[] }>): this {
    Object.assign(this.state, change);
    return this;
  }

  private detach(): void {
    if (this.parent === null) return;
    this.parent.children.splice(this.parent.children.indexOf(this), 1);
    this.parent = null;
  }

  private change<K extends keyof StubNode['state']>(key: K, value: StubNode['state'][K]): void {
    this.checkAlive();
    const old = this.state[key];
    this.state[key] = value;
    this.stub.record(`${key} of “${this.state.name}”`, () => (this.state[key] = old));
    this.stub.changed(this, key);
  }

  /** Figma throws when a deleted node's properties are read or written. */
  private checkAlive(): void {
    if (this.stub.strictRemoved && this.removed && this.type !== 'PAGE') throw new Error(`The node with id ${this.id} does not exist`);
  }
}

export interface PaintStyleStub {
  id: string;
  name: string;
  paints: Paint[];
  remove(): void;
}

/** Figma, as far as the plugin reaches: `figma` for the plugin, the rest for the test. */
export class FigmaStub {
  readonly page: StubNode;
  readonly images = new Map<string, Uint8Array>();
  readonly storage: Map<string, unknown>;
  readonly notices: { message: string; options?: { error?: boolean; timeout?: number } }[] = [];
  readonly calls: Call[] = [];
  /** Undo steps, oldest first: what the plugin did between two `commitUndo` calls. */
  readonly history: string[][] = [];
  readonly paintStyles: PaintStyleStub[] = [];
  /** What `showUI` was given. */
  shownUi?: { html: string; options: Record<string, unknown> };
  /** Reading a deleted node throws, as in Figma; tests of sloppy callers may turn it off. */
  strictRemoved = true;
  /** Where the UI receives what the main thread posts, once a host wires one. */
  deliverToUi?: (message: unknown) => void;
  /** Told of every change to a node: the browser host redraws, tests hook their moves. */
  onChange?: (node: StubNode, what: string) => void;

  private nodeNumber = 0;
  private pending: Change[] = [];
  private undone: Change[][] = [];
  private readonly listeners = new Map<string, Set<() => void>>();
  private selection: StubNode[] = [];
  private viewportBounds: Rect;
  private readonly nodes = new Map<string, StubNode>();
  private onMessage?: (message: unknown) => void;

  constructor(private readonly options: StubOptions) {
    stubCount++;
    this.page = new StubNode(this, 'PAGE', 'Page 1');
    this.storage = new Map(Object.entries(options.storage ?? {}));
    this.viewportBounds = options.viewport ?? { x: 0, y: 0, width: 1440, height: 900 };
  }

  nextNodeNumber(): number {
    return ++this.nodeNumber;
  }

  // ---- what the test does, as a designer would ----

  /** A node already in the file before the plugin runs. */
  add(type: string, name: string, box: Partial<Rect>, parent: StubNode = this.page, fills: Paint[] = []): StubNode {
    const node = this.node(type, name, box);
    node.setInitial({ fills });
    node.parent = parent;
    parent.children.push(node);
    return node;
  }

  /** An image the file already holds (a fixture's fill). */
  addImage(bytes: Uint8Array): string {
    const hash = `image-${this.images.size + 1}`;
    // A copy, and a plain Uint8Array even when a Node Buffer came in.
    this.images.set(hash, new Uint8Array(bytes));
    return hash;
  }

  select(nodes: StubNode[]): void {
    this.selection = [...nodes];
    this.emit('selectionchange');
  }

  /** The designer deletes a node: not one of the plugin's undo steps. */
  deleteNode(node: StubNode): void {
    const { parent } = node;
    if (parent === null) return;
    parent.children.splice(parent.children.indexOf(node), 1);
    node.parent = null;
    this.onChange?.(node, 'removed');
  }

  /** Cmd+Z: takes back the plugin's last undo step. Returns what it took back. */
  pressUndo(): string[] {
    this.commit();
    const step = this.undone.pop();
    if (step === undefined) return [];
    this.history.pop();
    for (const change of [...step].reverse()) change.revert();
    this.onChange?.(this.page, 'undo');
    return step.map((change) => change.what);
  }

  nodeById(id: string): StubNode | undefined {
    return this.nodes.get(id);
  }

  snapshot(): NodeSnapshot[] {
    return this.page.children.map((node) => node.snapshot());
  }

  /** The message the UI iframe posted, as Figma hands it to the main thread. */
  receive(pluginMessage: unknown): void {
    this.onMessage?.(pluginMessage);
  }

  // ---- what the stub itself does for its nodes ----

  record(what: string, revert: () => void): void {
    this.pending.push({ what, revert });
  }

  changed(node: StubNode, what: string): void {
    this.onChange?.(node, what);
  }

  call(api: string, ...args: unknown[]): void {
    this.calls.push({ api, args: structuredClone(args) });
  }

  render(node: StubNode, settings: ExportSettings): Promise<Uint8Array> {
    return this.options.render(node, settings, this.images);
  }

  private commit(): void {
    if (this.pending.length === 0) return;
    this.undone.push(this.pending);
    this.history.push(this.pending.map((change) => change.what));
    this.pending = [];
  }

  private node(type: string, name: string, box: Partial<Rect> = {}): StubNode {
    const node = new StubNode(this, type, name, box);
    this.nodes.set(node.id, node);
    return node;
  }

  /** A node the plugin creates: Figma puts it on the current page, as an undoable change. */
  private created(type: string, name: string, box: Partial<Rect>): StubNode {
    const node = this.node(type, name, box);
    this.page.appendChild(node);
    return node;
  }

  private emit(type: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }

  /** The `figma` global the plugin's main thread sees. */
  readonly api = (() => {
    const stub = this;
    return {
      showUI(html: string, options: Record<string, unknown> = {}) {
        stub.shownUi = { html, options };
      },
      ui: {
        postMessage(message: unknown) {
          stub.deliverToUi?.(message);
        },
        set onmessage(handler: ((message: unknown) => void) | undefined) {
          stub.onMessage = handler;
        },
        get onmessage() {
          return stub.onMessage;
        },
      },
      on(type: string, listener: () => void) {
        if (!stub.listeners.has(type)) stub.listeners.set(type, new Set());
        stub.listeners.get(type)!.add(listener);
      },
      off(type: string, listener: () => void) {
        stub.listeners.get(type)?.delete(listener);
      },
      currentPage: {
        get selection() {
          return [...stub.selection];
        },
        set selection(nodes: StubNode[]) {
          stub.selection = [...nodes];
          stub.emit('selectionchange');
        },
        appendChild(node: StubNode) {
          stub.page.appendChild(node);
        },
      },
      viewport: {
        get bounds() {
          return { ...stub.viewportBounds };
        },
        scrollAndZoomIntoView(nodes: StubNode[]) {
          stub.call('scrollAndZoomIntoView', nodes.map((node) => node.id));
          const boxes = nodes.map((node) => node.absoluteBoundingBox);
          const x = Math.min(...boxes.map((b) => b.x));
          const y = Math.min(...boxes.map((b) => b.y));
          const width = Math.max(...boxes.map((b) => b.x + b.width)) - x;
          const height = Math.max(...boxes.map((b) => b.y + b.height)) - y;
          stub.viewportBounds = { x: x - width / 2, y: y - height / 2, width: width * 2, height: height * 2 };
        },
      },
      clientStorage: {
        async getAsync(key: string) {
          stub.call('clientStorage.getAsync', key);
          return structuredClone(stub.storage.get(key));
        },
        async setAsync(key: string, value: unknown) {
          stub.call('clientStorage.setAsync', key, value);
          stub.storage.set(key, structuredClone(value));
        },
      },
      async getNodeByIdAsync(id: string) {
        const node = stub.nodes.get(id);
        return node === undefined || node.removed ? null : node;
      },
      createRectangle() {
        return stub.created('RECTANGLE', 'Rectangle', {});
      },
      createFrame() {
        const frame = stub.created('FRAME', 'Frame', {});
        frame.setInitial({ fills: [{ type: 'SOLID', color: { r: 1, g: 1, b: 1 } }] });
        return frame;
      },
      createNodeFromSvg(svg: string) {
        stub.call('createNodeFromSvg', svg);
        const size = /viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"/.exec(svg);
        const frame = stub.created('FRAME', 'svg', { width: Number(size?.[1] ?? 100), height: Number(size?.[2] ?? 100) });
        frame.svg = svg;
        return frame;
      },
      createImage(bytes: Uint8Array) {
        stub.call('createImage', bytes.length);
        let hash = [...stub.images].find(([, stored]) => stored.length === bytes.length && stored.every((byte, i) => byte === bytes[i]))?.[0];
        hash ??= stub.addImage(bytes);
        return { hash, getBytesAsync: async () => stub.images.get(hash!)!.slice() };
      },
      getImageByHash(hash: string) {
        const bytes = stub.images.get(hash);
        return bytes === undefined ? null : { hash, getBytesAsync: async () => bytes.slice() };
      },
      createPaintStyle() {
        const style: PaintStyleStub = {
          id: `S:${stub.paintStyles.length + 1}`,
          name: 'Style',
          paints: [],
          remove: () => {
            stub.paintStyles.splice(stub.paintStyles.indexOf(style), 1);
          },
        };
        stub.paintStyles.push(style);
        stub.record('create paint style', () => style.remove());
        return style;
      },
      async getLocalPaintStylesAsync() {
        return [...stub.paintStyles];
      },
      commitUndo() {
        stub.call('commitUndo');
        stub.commit();
      },
      notify(message: string, options?: { error?: boolean; timeout?: number }) {
        stub.notices.push(options === undefined ? { message } : { message, options });
        return { cancel() {} };
      },
    };
  })();
}

/** Runs the built main thread as Figma does: a classic script with `figma` and `__html__` as its globals. */
export function runMainThread(codeJs: string, stub: FigmaStub, html: string): void {
  new Function('figma', '__html__', codeJs)(stub.api, html);
}
