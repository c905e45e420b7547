import { dirname } from 'node:path';
import { LIMITS } from '@styleset/protocol';
import * as vscode from 'vscode';
import { connectDaemon, describeFailure, type StylesetClient } from './daemon';
import { exists, isDirectory, writePng } from './files';
import { globMatcher } from './glob';
import { planImages, type Plan, type PlannedImage, type SourceFile } from './plan';
import { SOURCE_KINDS, sourceKindOf } from './references';
import { runSet, type RunResult } from './runner';
import { DEFAULT_SETTINGS, optionsFrom, type Settings } from './settings';
import { pairingToken } from './token';

const SOURCE_GLOB = `**/*.{${Object.keys(SOURCE_KINDS).join(',')}}`;
/** Dependencies and build output: their references belong to others or copy the sources'. */
const EXCLUDE_GLOB = '**/{node_modules,.git,dist,out,.next,.nuxt,.svelte-kit,coverage}/**';
const MAX_FILES = 5000;

export type Scope = 'workspace' | 'file';

/** The command: scan, confirm, connect, generate one set, write each PNG as it arrives. */
export async function generatePlaceholders(context: vscode.ExtensionContext, scope: Scope): Promise<void> {
  const settings = readSettings();
  const options = optionsFrom(settings);
  if (!options.ok) {
    void vscode.window.showErrorMessage(`Styleset: ${options.error}`);
    return;
  }
  const files = scope === 'file' ? currentFile() : await workspaceFiles();
  if (files === undefined) return;
  const plan = await planImages(files, {
    exists,
    isDirectory,
    isPlaceholder: globMatcher(settings.placeholderGlob),
    styleHint: settings.styleHint,
  });
  const images = await choose(plan, scope);
  if (images === undefined) return;
  const client = await connect(context, settings.daemonUrl);
  if (client === undefined) return;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Styleset', cancellable: true },
      (progress, cancellation) => {
        const controller = new AbortController();
        cancellation.onCancellationRequested(() => controller.abort());
        progress.report({ message: `generating ${images.length} images in one style…` });
        return runSet({
          connection: client,
          images,
          options: options.options,
          write: writePng,
          signal: controller.signal,
          onProgress: ({ phase, step, total }) => progress.report({ message: `${phase} ${step}/${total}` }),
          onWritten: (target) => progress.report({ increment: 100 / images.length, message: `wrote ${vscode.workspace.asRelativePath(target)}` }),
        });
      },
    );
    report(result, images.length, settings.daemonUrl);
  } finally {
    await client.close();
  }
}

function readSettings(): Settings {
  const config = vscode.workspace.getConfiguration('styleset');
  const get = <K extends keyof Settings>(key: K): Settings[K] => config.get<Settings[K]>(key) ?? DEFAULT_SETTINGS[key];
  return {
    daemonUrl: get('daemonUrl'),
    model: get('model'),
    styleHint: get('styleHint'),
    steps: get('steps'),
    placeholderGlob: get('placeholderGlob'),
  };
}

/** The active editor's file, unsaved edits included. */
function currentFile(): SourceFile[] | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (document === undefined) {
    void vscode.window.showInformationMessage('Styleset: open the file whose images should be generated first.');
    return undefined;
  }
  if (document.uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('Styleset: save the file first: image paths are resolved from its folder.');
    return undefined;
  }
  const path = document.uri.fsPath;
  if (sourceKindOf(path) === undefined) {
    void vscode.window.showInformationMessage('Styleset reads image references in HTML, JSX/TSX, Vue, Svelte, Markdown and CSS files.');
    return undefined;
  }
  const folder = vscode.workspace.getWorkspaceFolder(document.uri)?.uri.fsPath ?? dirname(path);
  return [{ path, text: document.getText(), folder }];
}

/** Every source file in the workspace, in path order so that the style reference is stable. */
async function workspaceFiles(): Promise<SourceFile[] | undefined> {
  if (vscode.workspace.workspaceFolders === undefined) {
    void vscode.window.showInformationMessage('Styleset: open a folder first.');
    return undefined;
  }
  const uris = (await vscode.workspace.findFiles(SOURCE_GLOB, EXCLUDE_GLOB, MAX_FILES)).filter((uri) => uri.scheme === 'file');
  uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  const open = new Map(vscode.workspace.textDocuments.map((document) => [document.uri.fsPath, document]));
  const decoder = new TextDecoder();
  return Promise.all(
    uris.map(async (uri) => ({
      path: uri.fsPath,
      text: open.get(uri.fsPath)?.getText() ?? decoder.decode(await vscode.workspace.fs.readFile(uri)),
      folder: vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? dirname(uri.fsPath),
    })),
  );
}

/** The confirmation: every image preselected up to the protocol's limit, in set order. */
async function choose(plan: Plan, scope: Scope): Promise<PlannedImage[] | undefined> {
  const skipped = plan.skipped.map(({ target, why }) => `${vscode.workspace.asRelativePath(target)} (${why})`);
  if (plan.images.length === 0) {
    const where = scope === 'file' ? 'this file' : 'the workspace';
    const notes = skipped.length > 0 ? ` Skipped: ${skipped.join('; ')}.` : '';
    void vscode.window.showInformationMessage(`Styleset: ${where} references no missing or placeholder PNG images.${notes}`);
    return undefined;
  }
  const max = LIMITS.maxPromptsPerJob;
  const items = plan.images.map((image, index) => ({
    label: vscode.workspace.asRelativePath(image.target),
    description: image.prompt,
    detail: `${image.reason === 'missing' ? 'missing' : 'placeholder'} · ${mentions(image)}`,
    picked: index < max,
    image,
  }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    ignoreFocusOut: true,
    matchOnDescription: true,
    title: `Styleset: ${items.length} image${items.length === 1 ? '' : 's'} to generate in one style`,
    placeHolder: skipped.length > 0 ? `The first one sets the style. Skipped: ${skipped.join('; ')}` : 'The first one sets the style for the others',
  });
  if (picked === undefined || picked.length === 0) return undefined;
  if (picked.length > max) {
    void vscode.window.showErrorMessage(`Styleset: a set holds at most ${max} images and ${picked.length} are selected. Deselect some, or generate for one file at a time.`);
    return undefined;
  }
  const chosen = new Set(picked);
  return items.filter((item) => chosen.has(item)).map((item) => item.image);
}

function mentions(image: PlannedImage): string {
  const [first, ...others] = image.mentions;
  const where = `${vscode.workspace.asRelativePath(first.file)}:${first.line}`;
  return others.length === 0 ? `referenced in ${where}` : `referenced in ${where} and ${others.length} more`;
}

/** Pairs with the stored token; a rejected token is asked for again, once. */
async function connect(context: vscode.ExtensionContext, url: string): Promise<StylesetClient | undefined> {
  const stored = await pairingToken(context.secrets);
  if (stored === undefined) return undefined;
  let attempt = await tryConnect(url, stored);
  if ('failure' in attempt && attempt.failure.kind === 'unauthorized') {
    const entered = await pairingToken(context.secrets, 'The daemon did not accept the stored pairing token.');
    if (entered === undefined) return undefined;
    attempt = await tryConnect(url, entered);
  }
  if ('client' in attempt) return attempt.client;
  void vscode.window.showErrorMessage(attempt.failure.message);
  return undefined;
}

async function tryConnect(url: string, token: string): Promise<{ client: StylesetClient } | { failure: ReturnType<typeof describeFailure> }> {
  try {
    return { client: await connectDaemon(url, token) };
  } catch (error) {
    return { failure: describeFailure(error, url) };
  }
}

function report(result: RunResult, total: number, url: string): void {
  const count = `${result.written.length} of ${total} image${total === 1 ? '' : 's'}`;
  switch (result.status) {
    case 'done':
      void vscode.window.showInformationMessage(`Styleset wrote ${result.written.length} image${result.written.length === 1 ? '' : 's'}.`);
      return;
    case 'cancelled':
      void vscode.window.showInformationMessage(`Styleset: cancelled after writing ${count}.`);
      return;
    case 'failed': {
      const { message } = describeFailure(result.error, url);
      void vscode.window.showErrorMessage(result.written.length > 0 ? `${message} (${count} were written)` : message);
      return;
    }
  }
}
