import * as vscode from 'vscode';

/**
 * The "Styleset" output channel: what does not fit a notification or a quick pick stays readable
 * here (why references were skipped, a failure's whole message, the command "Start Daemon" ran).
 */
let channel: vscode.OutputChannel | undefined;

export function output(): vscode.OutputChannel {
  channel ??= vscode.window.createOutputChannel('Styleset');
  return channel;
}

export function log(line: string): void {
  output().appendLine(`[${new Date().toLocaleTimeString()}] ${line}`);
}

export function disposeOutput(): void {
  channel?.dispose();
  channel = undefined;
}
