import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { showFailure, type FailureScene } from './actions';
import { connectDaemon } from './daemon';
import { explainFailure } from './failures';
import { exists, isDirectory, writePng } from './files';
import { globMatcher } from './glob';
import { log } from './output';
import { chooseImages, type Scope } from './pick';
import { planImages, type PlannedImage, type SourceFile } from './plan';
import { finishedText, progressText, queuedText, startText, writtenBeforeFailure, writtenText, type SetWords } from './progress-words';
import { SOURCE_KINDS, sourceKindOf } from './references';
import { runSet } from './runner';
import { DEFAULT_SETTINGS, optionsFrom, type Settings } from './settings';
import { pairingToken } from './token';

export type { Scope };

const SOURCE_GLOB = `**/*.{${Object.keys(SOURCE_KINDS).join(',')}}`;
/** Dependencies and build output: their references belong to others or copy the sources'. */
const EXCLUDE_GLOB = '**/{node_modules,.git,dist,out,.next,.nuxt,.svelte-kit,coverage}/**';
const MAX_FILES = 5000;

/** The command: scan, confirm, then generate the chosen images as one set. */
export async function generatePlaceholders(context: vscode.ExtensionContext, scope: Scope): Promise<void> {
  const settings = readSettings();
  const files = scope === 'file' ? currentFile() : await workspaceFiles();
  if (files === undefined) return;
  const plan = await planImages(files, {
    exists,
    isDirectory,
    isPlaceholder: globMatcher(settings.placeholderGlob),
    styleHint: settings.styleHint,
  });
  const images = await chooseImages(plan, scope);
  if (images === undefined) return;
  await generateImages(context, images);
}

/**
 * Connects, generates one set and writes each PNG as it arrives. Every failure offers what can
 * fix it; "Retry" comes back here with the same images and the settings as they are then.
 */
async function generateImages(context: vscode.ExtensionContext, images: readonly PlannedImage[]): Promise<void> {
  const settings = readSettings();
  const scene: FailureScene = { context, url: settings.daemonUrl, daemonCommand: settings.daemonCommand, retry: () => generateImages(context, images) };
  const options = optionsFrom(settings);
  if (!options.ok) return showFailure(explainFailure({ code: 'invalid_setting', message: options.error, field: options.setting }, scene), scene);
  const token = await pairingToken(context.secrets);
  if (token === undefined) return showFailure(explainFailure({ code: 'token_missing', message: 'no pairing token was entered' }, scene), scene);
  let client;
  try {
    client = await connectDaemon(settings.daemonUrl, token);
  } catch (error) {
    return showFailure(explainFailure(error, scene), scene);
  }
  const words: SetWords = { names: images.map((image) => basename(image.target)) };
  const total = images.length;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Styleset', cancellable: true },
      (progress, cancellation) => {
        const controller = new AbortController();
        cancellation.onCancellationRequested(() => controller.abort());
        progress.report({ message: startText(words) });
        let written = 0;
        return runSet({
          connection: client,
          images,
          options: options.options,
          write: writePng,
          signal: controller.signal,
          onAccepted: (ahead) => ahead > 0 && progress.report({ message: queuedText(ahead) }),
          onProgress: (event) => progress.report({ message: progressText(event, words) }),
          onWritten: (target) => progress.report({ increment: 100 / total, message: writtenText(vscode.workspace.asRelativePath(target), ++written, total) }),
        });
      },
    );
    const written = result.written.map((target) => vscode.workspace.asRelativePath(target));
    for (const path of written) log(`Wrote ${path}`);
    if (result.status === 'failed') return showFailure(explainFailure(result.error, scene), scene, writtenBeforeFailure(written.length, total));
    void vscode.window.showInformationMessage(finishedText(result.status, written, total));
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
    daemonCommand: get('daemonCommand'),
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
