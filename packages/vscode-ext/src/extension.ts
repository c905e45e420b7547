import * as vscode from 'vscode';
import { generatePlaceholders, type Scope } from './generate';
import { disposeOutput, log } from './output';

const COMMANDS: Record<string, Scope> = {
  'styleset.generatePlaceholders': 'workspace',
  'styleset.generatePlaceholdersInFile': 'file',
};

export function activate(context: vscode.ExtensionContext): void {
  for (const [command, scope] of Object.entries(COMMANDS)) {
    context.subscriptions.push(
      vscode.commands.registerCommand(command, () =>
        // Anything unforeseen still reaches the user as a Styleset message, not a bare stack trace.
        generatePlaceholders(context, scope).catch((error: unknown) => {
          const message = (error as Error).message ?? String(error);
          log(`Failed: ${(error as Error).stack ?? message}`);
          void vscode.window.showErrorMessage(`Styleset: ${message}`);
        }),
      ),
    );
  }
}

export function deactivate(): void {
  disposeOutput();
}
