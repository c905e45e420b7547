import * as vscode from 'vscode';
import { relativePath, isInside } from './paths';
import { sniffMime } from './style';

const OPEN_SETTINGS = 'Open Settings';

/**
 * "Use as Styleset style" (the explorer's context menu on a PNG or JPEG): the image becomes the
 * style of the workspace folder's sets, saved as `styleset.styleImage` in that folder's settings,
 * relative to it, so that the choice travels with the project.
 */
export async function useAsStyle(uri: vscode.Uri | undefined): Promise<void> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (target === undefined || target.scheme !== 'file') {
    void vscode.window.showInformationMessage('Styleset: choose a PNG or JPEG image in the Explorer, then "Use as Styleset style".');
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(target);
  if (folder === undefined || !isInside(folder.uri.fsPath, target.fsPath)) {
    void vscode.window.showErrorMessage('Styleset: the style image must be inside a workspace folder.');
    return;
  }
  const bytes = await vscode.workspace.fs.readFile(target);
  const relative = relativePath(folder.uri.fsPath, target.fsPath);
  if (sniffMime(bytes) === undefined) {
    void vscode.window.showErrorMessage(`Styleset: ${relative} is not a PNG or JPEG image; the daemon takes its style from those.`);
    return;
  }
  // The folder's own settings in a multi-root workspace; the workspace's otherwise (the same file).
  const scope = (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Workspace;
  await vscode.workspace.getConfiguration('styleset', folder.uri).update('styleImage', relative, scope);
  const chosen = await vscode.window.showInformationMessage(`Styleset: new images take their style from ${relative}.`, OPEN_SETTINGS);
  if (chosen === OPEN_SETTINGS) await vscode.commands.executeCommand('workbench.action.openSettings', 'styleset.styleImage');
}
