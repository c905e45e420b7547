import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { exists, isDirectory } from './files';
import { readSettings } from './generate';
import type { GeneratedFiles } from './generated-files';
import { globMatcher } from './glob';
import { inspectFile, type InspectedReference } from './plan';
import { sourceKindOf } from './references';
import { referenceProblem, type ReferenceProblem } from './problems';

export const DIAGNOSTIC_SOURCE = 'Styleset';

/** Images a page shows at a size: a change to one of them can settle or raise a problem. */
const IMAGE_GLOB = '**/*.{png,jpg,jpeg,webp,gif,avif,svg,PNG,JPG,JPEG,WEBP,GIF,AVIF,SVG}';
/** Typing pauses shorter than this do not re-check the file. */
const TYPING_DELAY_MS = 300;
const DISK_DELAY_MS = 100;

/**
 * The Problems view's entries for image references Styleset can act on: every reference in an
 * open HTML, JSX/TSX, Vue, Svelte, Markdown or CSS file to an image that is missing, or that the
 * placeholder glob marks, at the path as written. Re-checked as the file is edited, as images
 * appear or go on disk, and when the settings change. The quick fixes (code-actions.ts) read the
 * problems back by diagnostic.
 */
export class ImageDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('styleset');
  private readonly problems = new WeakMap<vscode.Diagnostic, ReferenceProblem>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** A check started later than the one finishing wins: an edit made meanwhile is not overwritten. */
  private readonly generations = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly generated: GeneratedFiles) {
    const watcher = vscode.workspace.createFileSystemWatcher(IMAGE_GLOB);
    const onDisk = () => this.refreshAll(DISK_DELAY_MS);
    this.disposables.push(
      this.collection,
      watcher,
      watcher.onDidCreate(onDisk),
      watcher.onDidDelete(onDisk),
      vscode.workspace.onDidOpenTextDocument((document) => this.schedule(document, 0)),
      vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document, TYPING_DELAY_MS)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forget(document.uri)),
      vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('styleset') && this.refreshAll(0)),
    );
    this.refreshAll(0);
  }

  /** The problem a diagnostic of this collection stands for. */
  problemOf(diagnostic: vscode.Diagnostic): ReferenceProblem | undefined {
    return this.problems.get(diagnostic);
  }

  /** Every open file again, after the extension wrote images (the watcher may lag behind). */
  refreshAll(delay: number): void {
    for (const document of vscode.workspace.textDocuments) this.schedule(document, delay);
  }

  private schedule(document: vscode.TextDocument, delay: number): void {
    if (document.uri.scheme !== 'file' || sourceKindOf(document.uri.fsPath) === undefined) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(document);
      }, delay),
    );
  }

  private async check(document: vscode.TextDocument): Promise<void> {
    const key = document.uri.toString();
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    const path = document.uri.fsPath;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath ?? dirname(path);
    const settings = readSettings(document.uri);
    let inspected: InspectedReference[];
    try {
      inspected = await inspectFile({ path, text: document.getText(), folder }, {
        exists,
        isDirectory,
        isPlaceholder: globMatcher(settings.placeholderGlob),
        isGenerated: (target) => this.generated.isGenerated(target),
        styleHint: '',
      });
    } catch {
      return;
    }
    if (this.generations.get(key) !== generation || document.isClosed) return;
    const diagnostics: vscode.Diagnostic[] = [];
    for (const entry of inspected) {
      const problem = referenceProblem(entry, folder);
      if (problem === undefined) continue;
      const range = new vscode.Range(document.positionAt(entry.reference.start), document.positionAt(entry.reference.end));
      const diagnostic = new vscode.Diagnostic(range, problem.message, problem.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information);
      diagnostic.source = DIAGNOSTIC_SOURCE;
      diagnostic.code = problem.code;
      this.problems.set(diagnostic, problem);
      diagnostics.push(diagnostic);
    }
    this.collection.set(document.uri, diagnostics);
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.generations.delete(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const disposable of this.disposables) disposable.dispose();
  }
}
