import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { showFailure, type FailureScene } from './actions';
import { connectDaemon, type StylesetClient } from './daemon';
import { encodeImage } from './encode';
import { explainFailure } from './failures';
import { TargetExistsError, exists, isDirectory, writeImage } from './files';
import { GeneratedFiles } from './generated-files';
import { globMatcher } from './glob';
import { log, output } from './output';
import { chooseImages, type Scope } from './pick';
import { planImages, type PlannedImage, type SourceFile } from './plan';
import { finishedText, progressText, queuedText, setText, startText, warningsText, writtenBeforeFailure, writtenText, type SetWords } from './progress-words';
import { SOURCE_KINDS, sourceKindOf } from './references';
import { runSets, type SetStyle, type SizedSet } from './runner';
import { DEFAULT_SETTINGS, optionsFrom, type Settings } from './settings';
import { generationSize, groupBySize } from './sizes';
import { findSavedStyle } from './saved-style';
import { StyleImageError, workspaceStyle } from './style';
import { pairingToken } from './token';

export type { Scope };

export const SOURCE_GLOB = `**/*.{${Object.keys(SOURCE_KINDS).join(',')}}`;
/** Dependencies and build output: their references belong to others or copy the sources'. */
const EXCLUDE_GLOB = '**/{node_modules,.git,dist,out,.next,.nuxt,.svelte-kit,coverage}/**';
const MAX_FILES = 5000;
const REPLACE = 'Replace';
const SHOW_DETAILS = 'Show Details';

/** What to generate without asking: the quick fixes' choice. */
export type Selection = { kind: 'pick' } | { kind: 'all' } | { kind: 'one'; target: string };

/** The commands: scan, let the user choose (or take the quick fix's choice), then generate. */
export async function generatePlaceholders(context: vscode.ExtensionContext, scope: Scope, uri?: vscode.Uri, selection: Selection = { kind: 'pick' }): Promise<void> {
  const settings = readSettings(uri);
  const files = scope === 'file' ? await fileAt(uri) : await workspaceFiles();
  if (files === undefined) return;
  const generated = new GeneratedFiles(context.workspaceState);
  const plan = await planImages(files, {
    exists,
    isDirectory,
    isPlaceholder: globMatcher(settings.placeholderGlob),
    isGenerated: (path) => generated.isGenerated(path),
    styleHint: settings.styleHint,
  });
  const images = selection.kind === 'pick' ? await chooseImages(plan, scope) : chosen(plan.images, selection);
  if (images === undefined) return;
  await generateImages(context, images);
}

/** The quick fix's images, or why there are none (the diagnostic was older than the file). */
function chosen(images: PlannedImage[], selection: Selection): PlannedImage[] | undefined {
  const picked = selection.kind === 'one' ? images.filter((image) => image.target === selection.target) : images;
  if (picked.length > 0) return picked;
  const what = selection.kind === 'one' ? vscode.workspace.asRelativePath(selection.target) : 'this file';
  void vscode.window.showInformationMessage(`Styleset: nothing to generate for ${what}: its images are there now.`);
  return undefined;
}

/**
 * Connects, generates the images in the workspace's style (one job per size) and writes each as it
 * arrives. Every failure offers what can fix it; "Retry" comes back here with the same images and
 * the settings as they are then.
 */
async function generateImages(context: vscode.ExtensionContext, images: readonly PlannedImage[]): Promise<void> {
  const folder = images[0].folder;
  const settings = readSettings(vscode.Uri.file(folder));
  const scene: FailureScene = { context, url: settings.daemonUrl, daemonCommand: settings.daemonCommand, retry: () => generateImages(context, images) };
  const options = optionsFrom(settings);
  if (!options.ok) return showFailure(explainFailure({ code: 'invalid_setting', message: options.error, field: options.setting }, scene), scene);
  let style: SetStyle;
  try {
    style = await workspaceStyle(settings, folder);
  } catch (error) {
    if (error instanceof StyleImageError) return showFailure(explainFailure(error, scene), scene);
    throw error;
  }
  const token = await pairingToken(context.secrets);
  if (token === undefined) return showFailure(explainFailure({ code: 'token_missing', message: 'no pairing token was entered' }, scene), scene);
  let client: StylesetClient;
  try {
    client = await connectDaemon(settings.daemonUrl, token);
  } catch (error) {
    return showFailure(explainFailure(error, scene), scene);
  }
  const total = images.length;
  const generated = new GeneratedFiles(context.workspaceState);
  const styleName = style.kind === 'image' ? basename(settings.styleImage) : undefined;
  try {
    let sets: SizedSet[];
    try {
      // A saved style brings its model and options, its size the one for images of no size.
      const saved = style.kind === 'saved' ? await findSavedStyle(client, style.name) : undefined;
      const model = saved ?? (await client.getModel(options.options.model ?? client.welcome.defaultModel));
      const fallback = { width: settings.width ?? model.width, height: settings.height ?? model.height };
      sets = groupBySize(images, (image) => generationSize(image.size, fallback, client.welcome.limits.size));
    } catch (error) {
      return showFailure(explainFailure(error, scene), scene);
    }
    const byTarget = new Map(images.map((image) => [image.target, image]));
    const warnings: string[] = [];
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Styleset', cancellable: true },
      (progress, cancellation) => {
        const controller = new AbortController();
        cancellation.onCancellationRequested(() => controller.abort());
        progress.report({ message: startText({ names: images.map((image) => basename(image.target)) }) });
        let words: SetWords = { names: [] };
        let written = 0;
        return runSets({
          connection: client,
          sets,
          style,
          // The model and steps settings are for sets without a saved style: one has its own.
          options: style.kind === 'saved' ? {} : options.options,
          write: async (image, png) => {
            const wrote = await writeOne(byTarget.get(image.target)!, png);
            if (wrote) await generated.record(image.target);
            return wrote;
          },
          signal: controller.signal,
          onSetStart: (index, set) => {
            // Later sizes take the style of the first image, which the daemon then inverts.
            const reference = styleName ?? (index > 0 && style.kind === 'first' ? basename(sets[0].images[0].target) : undefined);
            words = { names: set.images.map((image) => basename(image.target)), ...(reference !== undefined && { styleImage: reference }) };
            if (sets.length > 1) progress.report({ message: setText(index, sets.length, set) });
          },
          onAccepted: (ahead) => ahead > 0 && progress.report({ message: queuedText(ahead) }),
          onProgress: (event) => progress.report({ message: progressText(event, words) }),
          onWritten: (target) => progress.report({ increment: 100 / total, message: writtenText(vscode.workspace.asRelativePath(target), ++written, total) }),
          onWarning: (target, warning) => warnings.push(`${vscode.workspace.asRelativePath(target)}: ${warning}`),
        });
      },
    );
    const written = result.written.map((target) => vscode.workspace.asRelativePath(target));
    for (const path of written) log(`Wrote ${path}`);
    for (const warning of warnings) log(`Warning: ${warning}`);
    if (result.status === 'failed') return showFailure(explainFailure(result.error, scene), scene, writtenBeforeFailure(written.length, total));
    if (warnings.length === 0) {
      void vscode.window.showInformationMessage(finishedText(result.status, written, total));
      return;
    }
    // A traced SVG that could not be made leaves its file missing; the daemon says why.
    const chosen = await vscode.window.showWarningMessage(`${finishedText(result.status, written, total)} ${warningsText(warnings)}`, SHOW_DETAILS);
    if (chosen === SHOW_DETAILS) output().show(true);
  } finally {
    await client.close();
  }
}

/**
 * Encodes an image in its reference's format and writes it atomically. A file that appeared
 * since the set was planned is someone's real image: it is replaced only if the user says so.
 */
async function writeOne(image: PlannedImage, result: Uint8Array): Promise<boolean> {
  // An SVG is written as the daemon traced it; the other formats are made from its PNG.
  const bytes = image.format === 'svg' ? result : await encodeImage(result, image.format, __dirname);
  try {
    await writeImage({ folder: image.folder, target: image.target, bytes, replace: image.reason === 'placeholder' });
    return true;
  } catch (error) {
    if (!(error instanceof TargetExistsError)) throw error;
  }
  const path = vscode.workspace.asRelativePath(image.target);
  const answer = await vscode.window.showWarningMessage(
    `Styleset: ${path} exists now; it was missing when generation started. Replace it with the generated image?`,
    { modal: true },
    REPLACE,
  );
  if (answer !== REPLACE) {
    log(`Kept ${path}: it appeared while the set was generated`);
    return false;
  }
  await writeImage({ folder: image.folder, target: image.target, bytes, replace: true });
  return true;
}

export function readSettings(scope?: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration('styleset', scope);
  const get = <K extends keyof Settings>(key: K): Settings[K] => config.get<Settings[K]>(key) ?? DEFAULT_SETTINGS[key];
  return {
    daemonUrl: get('daemonUrl'),
    model: get('model'),
    styleHint: get('styleHint'),
    steps: get('steps'),
    placeholderGlob: get('placeholderGlob'),
    daemonCommand: get('daemonCommand'),
    styleImage: get('styleImage'),
    savedStyle: get('savedStyle'),
    width: get('width'),
    height: get('height'),
  };
}

/** The file named (a quick fix's), else the active editor's; unsaved edits included. */
async function fileAt(uri: vscode.Uri | undefined): Promise<SourceFile[] | undefined> {
  const document = uri === undefined ? vscode.window.activeTextEditor?.document : await vscode.workspace.openTextDocument(uri);
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
