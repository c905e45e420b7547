import * as vscode from 'vscode';
import { generatePlaceholders, type Scope } from './generate';

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
          void vscode.window.showErrorMessage(`Styleset: ${(error as Error).message ?? String(error)}`);
        }),
      ),
    );
  }
}
