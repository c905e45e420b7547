import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative } from 'node:path';

/**
 * A stand-in for the parts of the `vscode` API the extension uses, recording what it shows and
 * answering as a scripted user would. The extension runs from its real bundle (see `load`), so
 * what is tested is what VS Code loads.
 */

export interface Shown {
  kind: 'info' | 'warning' | 'error';
  message: string;
  buttons: string[];
  /** A dialog the user must answer, rather than a notification. */
  modal?: true;
}

export interface Terminal {
  name: string;
  cwd: string;
  sent: string[];
  shown: boolean;
}

type Listener<T> = (value: T) => void;

/** VS Code's Event: subscribe, get a disposable. */
class Emitter<T> {
  private readonly listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => this.listeners.splice(this.listeners.indexOf(listener), 1) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
}

export interface Item {
  label: string;
  description?: string;
  detail?: string;
  kind?: number;
  alwaysShow?: boolean;
}

/** `window.createQuickPick()`; a test plays the user with `select`, `accept` and `hide`. */
export class QuickPick {
  canSelectMany = false;
  ignoreFocusOut = false;
  matchOnDescription = false;
  title?: string;
  placeholder?: string;
  items: readonly Item[] = [];
  private selected: readonly Item[] = [];
  disposed = false;
  private readonly changed = new Emitter<readonly Item[]>();
  private readonly accepted = new Emitter<void>();
  private readonly hidden = new Emitter<void>();
  readonly onDidChangeSelection = this.changed.event;
  readonly onDidAccept = this.accepted.event;
  readonly onDidHide = this.hidden.event;

  constructor(private readonly host: VscodeHost) {}

  get selectedItems(): readonly Item[] {
    return this.selected;
  }

  set selectedItems(items: readonly Item[]) {
    this.selected = items;
  }

  show(): void {
    this.host.quickPicks.push(this);
    queueMicrotask(() => this.host.onQuickPick(this));
  }

  hide(): void {
    this.hidden.fire();
  }

  dispose(): void {
    this.disposed = true;
  }

  /** The user checks exactly these items. */
  select(items: readonly Item[]): void {
    this.selected = items;
    this.changed.fire(items);
  }

  accept(): void {
    this.accepted.fire();
  }
}

const NOTIFICATION = 15;
const SEPARATOR = -1;

/** `vscode.Uri` for files, as far as the extension uses it. */
export class Uri {
  readonly scheme = 'file';
  private constructor(readonly fsPath: string) {}
  static file(path: string): Uri {
    return new Uri(path);
  }
  get path(): string {
    return this.fsPath;
  }
  toString(): string {
    return `file://${this.fsPath}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
}

export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 } as const;

export class Diagnostic {
  source?: string;
  code?: string;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}

export class CodeAction {
  diagnostics?: Diagnostic[];
  isPreferred?: boolean;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly title: string,
    readonly kind: string,
  ) {}
}

/** An open file: its text as the editor holds it, unsaved edits included. */
export class TextDocument {
  isClosed = false;
  constructor(
    readonly uri: Uri,
    public text: string,
  ) {}
  getText(): string {
    return this.text;
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, offset);
    const line = before.split('\n').length - 1;
    return new Position(line, offset - (before.lastIndexOf('\n') + 1));
  }
}

interface CodeActionProvider {
  provideCodeActions(document: TextDocument, range: Range, context: { diagnostics: Diagnostic[] }): CodeAction[];
}

export class VscodeHost {
  readonly shown: Shown[] = [];
  readonly executed: unknown[][] = [];
  readonly terminals: Terminal[] = [];
  readonly progress: string[][] = [];
  readonly quickPicks: QuickPick[] = [];
  readonly inputBoxes: { title?: string; prompt?: string }[] = [];
  readonly output = { name: '', lines: [] as string[], shown: false };
  readonly secrets = new Map<string, string>();
  /** `ExtensionContext.workspaceState`. */
  readonly workspaceState = new Map<string, unknown>();
  readonly settings: Record<string, unknown> = {};
  readonly commands = new Map<string, (...args: unknown[]) => Promise<void>>();
  /** What the extension's diagnostic collection holds, by file path. */
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly codeActionProviders: { selector: unknown; provider: CodeActionProvider }[] = [];
  /** Settings written with `update`, as [key, value, target]. */
  readonly updates: [string, unknown, number][] = [];
  readonly documents: TextDocument[] = [];
  activeEditor: { document: TextDocument } | undefined;
  private readonly opened = new Emitter<TextDocument>();
  private readonly changed = new Emitter<{ document: TextDocument }>();
  private readonly closed = new Emitter<TextDocument>();
  private readonly configured = new Emitter<{ affectsConfiguration(section: string): boolean }>();
  private readonly created = new Emitter<Uri>();
  private readonly deleted = new Emitter<Uri>();

  /** The scripted user's choice of button; undefined dismisses the message. */
  answer: (shown: Shown) => string | undefined | Promise<string | undefined> = () => undefined;
  onQuickPick: (pick: QuickPick) => void = (pick) => pick.accept();
  onInputBox: () => string | undefined = () => undefined;
  onTerminalText: (text: string, terminal: Terminal) => void = () => {};

  constructor(
    readonly folder: string,
    /** The workspace's source files, as `findFiles` finds them. */
    readonly files: string[],
  ) {}

  readonly QuickPickItemKind = { Separator: SEPARATOR, Default: 0 };

  /** Opens a file in an editor, as the user would: the extension hears of it. */
  async openDocument(path: string, active = true): Promise<TextDocument> {
    const document = new TextDocument(Uri.file(path), await readFile(path, 'utf8'));
    this.documents.push(document);
    if (active) this.activeEditor = { document };
    this.opened.fire(document);
    return document;
  }

  /** The user types: the document's text changes (unsaved). */
  edit(document: TextDocument, text: string): void {
    document.text = text;
    this.changed.fire({ document });
  }

  /** A file watcher's report of an image appearing or going. */
  fileCreated(path: string): void {
    this.created.fire(Uri.file(path));
  }

  fileDeleted(path: string): void {
    this.deleted.fire(Uri.file(path));
  }

  /** The quick fixes VS Code would offer for the diagnostics at this range (the lightbulb). */
  codeActions(document: TextDocument, diagnostics: Diagnostic[]): CodeAction[] {
    return this.codeActionProviders.flatMap(({ provider }) => provider.provideCodeActions(document, diagnostics[0]?.range, { diagnostics }));
  }

  /** Runs a code action's command, as choosing it in the lightbulb menu does. */
  apply(action: CodeAction): Promise<void> {
    return this.run(action.command!.command, ...(action.command!.arguments ?? []));
  }

  /** The `vscode` module as the bundle sees it. */
  api(): object {
    const uri = (fsPath: string) => Uri.file(fsPath);
    const folder = { uri: uri(this.folder), name: 'workspace', index: 0 };
    const host = this;
    const show = (kind: Shown['kind']) => async (message: string, ...rest: (string | { modal?: boolean })[]) => {
      const buttons = rest.filter((item): item is string => typeof item === 'string');
      const modal = rest.some((item) => typeof item === 'object' && item.modal === true);
      const shown: Shown = { kind, message, buttons, ...(modal && { modal: true as const }) };
      this.shown.push(shown);
      return this.answer(shown);
    };
    const disposable = { dispose() {} };
    return {
      ProgressLocation: { Notification: NOTIFICATION },
      QuickPickItemKind: this.QuickPickItemKind,
      Uri,
      Range,
      Position,
      Diagnostic,
      DiagnosticSeverity,
      CodeAction,
      CodeActionKind: { QuickFix: 'quickfix' },
      ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
      commands: {
        registerCommand: (id: string, handler: (...args: unknown[]) => Promise<void>) => (this.commands.set(id, handler), disposable),
        executeCommand: async (...args: unknown[]) => void this.executed.push(args),
      },
      languages: {
        createDiagnosticCollection: () => ({
          set: (file: Uri, diagnostics: Diagnostic[]) => void this.diagnostics.set(file.fsPath, diagnostics),
          delete: (file: Uri) => void this.diagnostics.delete(file.fsPath),
          dispose() {},
        }),
        registerCodeActionsProvider: (selector: unknown, provider: CodeActionProvider) => (this.codeActionProviders.push({ selector, provider }), disposable),
      },
      window: {
        get activeTextEditor() {
          return host.activeEditor;
        },
        showInformationMessage: show('info'),
        showWarningMessage: show('warning'),
        showErrorMessage: show('error'),
        showInputBox: async (options: { title?: string; prompt?: string }) => (this.inputBoxes.push(options), this.onInputBox()),
        createQuickPick: () => new QuickPick(this),
        createOutputChannel: (name: string) => {
          this.output.name = name;
          return { appendLine: (line: string) => void this.output.lines.push(line), show: () => void (this.output.shown = true), dispose() {} };
        },
        createTerminal: (options: { name: string; cwd: string }) => {
          const terminal: Terminal = { name: options.name, cwd: options.cwd, sent: [], shown: false };
          this.terminals.push(terminal);
          return {
            show: () => void (terminal.shown = true),
            sendText: (text: string) => {
              terminal.sent.push(text);
              this.onTerminalText(text, terminal);
            },
          };
        },
        withProgress: async (options: { location: number }, task: (progress: object, token: object) => Promise<unknown>) => {
          if (options.location !== NOTIFICATION) throw new Error('expected a notification');
          const messages: string[] = [];
          this.progress.push(messages);
          const report = ({ message }: { message?: string }) => void (message !== undefined && messages.push(message));
          return task({ report }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) });
        },
      },
      workspace: {
        workspaceFolders: [folder],
        getConfiguration: (section: string) => ({
          get: (key: string) => this.settings[`${section}.${key}`],
          update: async (key: string, value: unknown, target: number) => {
            this.settings[`${section}.${key}`] = value;
            this.updates.push([`${section}.${key}`, value, target]);
            this.configured.fire({ affectsConfiguration: (name: string) => `${section}.${key}`.startsWith(name) });
          },
        }),
        findFiles: async () => this.files.map(uri),
        get textDocuments() {
          return host.documents;
        },
        openTextDocument: async (file: Uri) => this.documents.find((document) => document.uri.fsPath === file.fsPath) ?? new TextDocument(file, await readFile(file.fsPath, 'utf8')),
        onDidOpenTextDocument: this.opened.event,
        onDidChangeTextDocument: this.changed.event,
        onDidCloseTextDocument: this.closed.event,
        onDidChangeConfiguration: this.configured.event,
        createFileSystemWatcher: () => ({ onDidCreate: this.created.event, onDidDelete: this.deleted.event, onDidChange: () => disposable, dispose() {} }),
        fs: { readFile: async (file: { fsPath: string }) => new Uint8Array(await readFile(file.fsPath)) },
        getWorkspaceFolder: (file: { fsPath: string }) => (isInside(this.folder, file.fsPath) ? folder : undefined),
        asRelativePath: (path: string | { fsPath: string }) => {
          const absolute = typeof path === 'string' ? path : path.fsPath;
          return isInside(this.folder, absolute) ? relative(this.folder, absolute).split(/[\\/]/).join('/') : absolute;
        },
      },
    };
  }

  /** What `ExtensionContext` the extension uses: subscriptions, the secret storage and the workspace state. */
  context(): object {
    return {
      subscriptions: [],
      workspaceState: {
        get: <T>(key: string, defaultValue: T) => (this.workspaceState.has(key) ? (this.workspaceState.get(key) as T) : defaultValue),
        update: async (key: string, value: unknown) => void this.workspaceState.set(key, value),
      },
      secrets: {
        get: async (key: string) => this.secrets.get(key),
        store: async (key: string, value: string) => void this.secrets.set(key, value),
      },
    };
  }

  /** Loads the bundle (built into `dist`) as the extension host does, and activates it. */
  activate(bundle: string, dist: string): void {
    const module = { exports: {} as { activate(context: object): void } };
    const file = join(dist, 'extension.cjs');
    const nodeRequire = createRequire(file);
    const api = this.api();
    const require = (id: string) => (id === 'vscode' ? api : nodeRequire(id));
    new Function('require', 'module', 'exports', '__filename', '__dirname', bundle)(require, module, module.exports, file, dist);
    module.exports.activate(this.context());
  }

  run(command: string, ...args: unknown[]): Promise<void> {
    const handler = this.commands.get(command);
    if (handler === undefined) throw new Error(`${command} is not registered`);
    return handler(...args);
  }
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
