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

export class VscodeHost {
  readonly shown: Shown[] = [];
  readonly executed: unknown[][] = [];
  readonly terminals: Terminal[] = [];
  readonly progress: string[][] = [];
  readonly quickPicks: QuickPick[] = [];
  readonly inputBoxes: { title?: string; prompt?: string }[] = [];
  readonly output = { name: '', lines: [] as string[], shown: false };
  readonly secrets = new Map<string, string>();
  readonly settings: Record<string, unknown> = {};
  readonly commands = new Map<string, () => Promise<void>>();

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

  /** The `vscode` module as the bundle sees it. */
  api(): object {
    const uri = (fsPath: string) => ({ fsPath, scheme: 'file', path: fsPath });
    const folder = { uri: uri(this.folder), name: 'workspace', index: 0 };
    const show = (kind: Shown['kind']) => async (message: string, ...buttons: string[]) => {
      const shown = { kind, message, buttons };
      this.shown.push(shown);
      return this.answer(shown);
    };
    return {
      ProgressLocation: { Notification: NOTIFICATION },
      QuickPickItemKind: this.QuickPickItemKind,
      commands: {
        registerCommand: (id: string, handler: () => Promise<void>) => (this.commands.set(id, handler), { dispose() {} }),
        executeCommand: async (...args: unknown[]) => void this.executed.push(args),
      },
      window: {
        activeTextEditor: undefined,
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
        getConfiguration: (section: string) => ({ get: (key: string) => this.settings[`${section}.${key}`] }),
        findFiles: async () => this.files.map(uri),
        textDocuments: [],
        fs: { readFile: async (file: { fsPath: string }) => new Uint8Array(await readFile(file.fsPath)) },
        getWorkspaceFolder: (file: { fsPath: string }) => (isInside(this.folder, file.fsPath) ? folder : undefined),
        asRelativePath: (path: string | { fsPath: string }) => {
          const absolute = typeof path === 'string' ? path : path.fsPath;
          return isInside(this.folder, absolute) ? relative(this.folder, absolute).split(/[\\/]/).join('/') : absolute;
        },
      },
    };
  }

  /** What `ExtensionContext` the extension uses: subscriptions and the secret storage. */
  context(): object {
    return {
      subscriptions: [],
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

  run(command: string): Promise<void> {
    const handler = this.commands.get(command);
    if (handler === undefined) throw new Error(`${command} is not registered`);
    return handler();
  }
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
