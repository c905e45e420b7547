import * as vscode from 'vscode';
import { DIAGNOSTIC_SOURCE, type ImageDiagnostics } from './diagnostics';

export const GENERATE_IMAGE = 'styleset.generateImage';
export const GENERATE_FILE = 'styleset.generateAllInFile';

export const GENERATE_IMAGE_TITLE = 'Generate this image with Styleset';
export const GENERATE_FILE_TITLE = 'Generate all missing images in this file';

/**
 * The quick fixes on Styleset's diagnostics: the image under the cursor, or every image the file
 * is missing, generated without the confirmation list (choosing the fix is the confirmation).
 */
export class GenerateImageActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly diagnostics: ImageDiagnostics) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const fixable = context.diagnostics.filter((diagnostic) => diagnostic.source === DIAGNOSTIC_SOURCE && this.diagnostics.problemOf(diagnostic)?.fixable);
    if (fixable.length === 0) return [];
    // One per image: several references to one file under the cursor need one fix, not one each.
    const byTarget = new Map<string, vscode.CodeAction>();
    for (const diagnostic of fixable) {
      const { target } = this.diagnostics.problemOf(diagnostic)!;
      if (byTarget.has(target)) continue;
      const action = new vscode.CodeAction(GENERATE_IMAGE_TITLE, vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      action.command = { command: GENERATE_IMAGE, title: GENERATE_IMAGE_TITLE, arguments: [document.uri, target] };
      byTarget.set(target, action);
    }
    const all = new vscode.CodeAction(GENERATE_FILE_TITLE, vscode.CodeActionKind.QuickFix);
    all.command = { command: GENERATE_FILE, title: GENERATE_FILE_TITLE, arguments: [document.uri] };
    return [...byTarget.values(), all];
  }
}
