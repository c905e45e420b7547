import * as vscode from 'vscode';
import { GENERATE_FILE, GENERATE_IMAGE, GenerateImageActions } from './code-actions';
import { ImageDiagnostics } from './diagnostics';
import { generatePlaceholders, SOURCE_GLOB } from './generate';
import { GeneratedFiles } from './generated-files';
import { disposeOutput, log } from './output';
import { useSavedStyle } from './saved-style-command';
import { useAsStyle } from './style-command';

export function activate(context: vscode.ExtensionContext): void {
  const diagnostics = new ImageDiagnostics(new GeneratedFiles(context.workspaceState));
  /** Anything unforeseen still reaches the user as a Styleset message, not a bare stack trace. */
  const command = <A extends unknown[]>(id: string, run: (...args: A) => Promise<void>) =>
    vscode.commands.registerCommand(id, (...args: A) =>
      run(...args)
        .catch((error: unknown) => {
          const message = (error as Error).message ?? String(error);
          log(`Failed: ${(error as Error).stack ?? message}`);
          void vscode.window.showErrorMessage(`Styleset: ${message}`);
        })
        // What was written settles its diagnostics now rather than when the file watcher reports.
        .finally(() => diagnostics.refreshAll(0)),
    );
  context.subscriptions.push(
    diagnostics,
    command('styleset.generatePlaceholders', () => generatePlaceholders(context, 'workspace')),
    command('styleset.generatePlaceholdersInFile', (uri?: vscode.Uri) => generatePlaceholders(context, 'file', uri instanceof vscode.Uri ? uri : undefined)),
    command(GENERATE_IMAGE, (uri: vscode.Uri, target: string) => generatePlaceholders(context, 'file', uri, { kind: 'one', target })),
    command(GENERATE_FILE, (uri: vscode.Uri) => generatePlaceholders(context, 'file', uri, { kind: 'all' })),
    command('styleset.useAsStyle', (uri?: vscode.Uri) => useAsStyle(uri)),
    command('styleset.useSavedStyle', () => useSavedStyle(context)),
    vscode.languages.registerCodeActionsProvider({ scheme: 'file', pattern: SOURCE_GLOB }, new GenerateImageActions(diagnostics), {
      providedCodeActionKinds: GenerateImageActions.kinds,
    }),
  );
}

export function deactivate(): void {
  disposeOutput();
}
