import type { StyleInfo } from '@styleset/protocol';
import * as vscode from 'vscode';
import { showFailure, type FailureScene } from './actions';
import { connectDaemon } from './daemon';
import { explainFailure } from './failures';
import { readSettings } from './generate';
import { SAVED_STYLE } from './saved-style';
import { pairingToken } from './token';

const OPEN_SETTINGS = 'Open Settings';

/**
 * "Use a saved style from the daemon": the styles the daemon keeps, to pick one; it becomes the
 * style of the workspace folder's sets, saved as `styleset.savedStyle` in that folder's settings.
 * A style image there would come first, so it is cleared, and the message says so.
 */
export async function useSavedStyle(context: vscode.ExtensionContext): Promise<void> {
  // The active editor's folder in a multi-root workspace, else the first.
  const active = vscode.window.activeTextEditor?.document.uri;
  const folder = (active && vscode.workspace.getWorkspaceFolder(active)) || vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) {
    void vscode.window.showInformationMessage('Styleset: open a folder first; its sets take the saved style.');
    return;
  }
  const settings = readSettings(folder.uri);
  const scene: FailureScene = { context, url: settings.daemonUrl, daemonCommand: settings.daemonCommand, retry: () => useSavedStyle(context) };
  const token = await pairingToken(context.secrets);
  if (token === undefined) return showFailure(explainFailure({ code: 'token_missing', message: 'no pairing token was entered' }, scene), scene);
  let styles: StyleInfo[];
  try {
    const client = await connectDaemon(settings.daemonUrl, token);
    try {
      styles = await client.listStyles();
    } finally {
      await client.close();
    }
  } catch (error) {
    return showFailure(explainFailure(error, scene), scene);
  }
  if (styles.length === 0) {
    void vscode.window.showInformationMessage('Styleset: the daemon keeps no styles yet. Save one with "styleset style save NAME --from DIR/set.json", or from Figma.');
    return;
  }
  const picked = await pickStyle(styles, settings.savedStyle);
  if (picked === undefined) return;
  const scope = (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Workspace;
  const config = vscode.workspace.getConfiguration('styleset', folder.uri);
  await config.update('savedStyle', picked.name, scope);
  const cleared = settings.styleImage.trim() !== '';
  if (cleared) await config.update('styleImage', '', scope);
  const note = cleared ? ` (styleset.styleImage, which came first, is cleared: it was ${settings.styleImage})` : '';
  const chosen = await vscode.window.showInformationMessage(`Styleset: new images take the saved style ${picked.name}${note}.`, OPEN_SETTINGS);
  if (chosen === OPEN_SETTINGS) await vscode.commands.executeCommand('workbench.action.openSettings', SAVED_STYLE);
}

/** One item per style: its name, what it was made from, and its model and size. */
async function pickStyle(styles: readonly StyleInfo[], current: string): Promise<StyleInfo | undefined> {
  const items = styles.map((style) => ({
    label: style.name,
    description: style.name === current ? '(in use)' : undefined,
    detail: `${style.kind === 'set' ? `first image of a set: "${style.prompt}", seed ${style.seed}` : `reference image: "${style.prompt}"`} · model ${style.model.id}, ${style.options.width}×${style.options.height}`,
    style,
  }));
  const pick = vscode.window.createQuickPick<(typeof items)[number]>();
  pick.title = 'Styleset: saved styles on the daemon';
  pick.placeholder = 'The style new images in this workspace take';
  pick.matchOnDescription = true;
  pick.items = items;
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      resolve(pick.selectedItems[0]?.style);
      pick.dispose();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}
