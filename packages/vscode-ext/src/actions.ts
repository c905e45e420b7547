import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { connectDaemon } from './daemon';
import { daemonCommand, daemonFolder } from './daemon-launch';
import { ACTION_TITLES, type Failure, type FailureAction } from './failures';
import { exists } from './files';
import { log } from './output';
import { enterToken, storedToken } from './token';

/** What the failure's buttons need from the command that failed. */
export interface FailureScene {
  context: vscode.ExtensionContext;
  /** The daemon address the command used. */
  url: string;
  /** What "Start Daemon" types into its terminal; empty for the default. */
  daemonCommand: string;
  /** Runs the same work again, with the settings as they are by then. */
  retry(): Promise<void>;
}

/** How long "Start Daemon" waits for the new daemon before it gives up retrying on its own. */
const START_TIMEOUT_MS = 60_000;
const START_POLL_MS = 500;

/** Shows the failure with its actions, logs it whole, and does what the button chosen says. */
export async function showFailure(failure: Failure, scene: FailureScene, suffix = ''): Promise<void> {
  log(`${failure.instruction === '' ? 'Failed' : failure.instruction}: ${failure.detail}${suffix}`);
  const titles = failure.actions.map((action) => ACTION_TITLES[action.kind]);
  const chosen = await vscode.window.showErrorMessage(`${failure.message}${suffix}`, ...titles);
  const action = failure.actions.find((candidate) => ACTION_TITLES[candidate.kind] === chosen);
  if (action !== undefined) await perform(action, scene);
}

export async function perform(action: FailureAction, scene: FailureScene): Promise<void> {
  switch (action.kind) {
    case 'openSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', action.setting);
      return;
    case 'retry':
      await scene.retry();
      return;
    case 'enterToken':
      if ((await enterToken(scene.context.secrets, 'The daemon did not accept the stored pairing token.')) !== undefined) await scene.retry();
      return;
    case 'startDaemon':
      await startDaemon(scene);
      return;
  }
}

/**
 * Opens a terminal running the daemon, where its output and errors stay readable, then waits for
 * it to answer and retries; the wait shows as a cancellable notification.
 */
async function startDaemon(scene: FailureScene): Promise<void> {
  const command = daemonCommand(scene.url, scene.daemonCommand);
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath);
  const cwd = await daemonFolder(folders, homedir(), exists);
  const terminal = vscode.window.createTerminal({ name: 'Styleset daemon', cwd });
  terminal.show();
  terminal.sendText(command);
  log(`Started the daemon with "${command}" in ${cwd}`);
  const answered = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Styleset', cancellable: true },
    async (progress, cancellation) => {
      progress.report({ message: `Waiting for the daemon to start in the terminal "Styleset daemon"…` });
      return waitForDaemon(scene, () => cancellation.isCancellationRequested);
    },
  );
  if (answered) {
    await scene.retry();
    return;
  }
  const again = await vscode.window.showWarningMessage(
    `Styleset: retry once the terminal says "Styleset daemon listening". It did not answer at ${scene.url} yet.`,
    ACTION_TITLES.retry,
  );
  if (again === ACTION_TITLES.retry) await scene.retry();
}

/**
 * Whether a daemon answers at the URL before the timeout: any answer counts, a refused token
 * too (the retry then asks for the right one).
 */
async function waitForDaemon(scene: FailureScene, cancelled: () => boolean): Promise<boolean> {
  const token = (await storedToken(scene.context.secrets)) ?? '';
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!cancelled() && Date.now() < deadline) {
    try {
      await (await connectDaemon(scene.url, token)).close();
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'daemon_unreachable') return true;
    }
    await new Promise((resolve) => setTimeout(resolve, START_POLL_MS));
  }
  return false;
}
