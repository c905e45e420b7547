import * as vscode from 'vscode';

const SECRET_KEY = 'styleset.pairingToken';

/** The stored pairing token, or one the user enters now (then stored); undefined if they decline. */
export async function pairingToken(secrets: vscode.SecretStorage, reason?: string): Promise<string | undefined> {
  const stored = reason === undefined ? await secrets.get(SECRET_KEY) : undefined;
  if (stored !== undefined && stored !== '') return stored;
  const entered = await vscode.window.showInputBox({
    title: 'Styleset pairing token',
    prompt: `${reason ?? 'The Styleset daemon needs its pairing token once.'} Run \`styleset pair\` in a terminal and paste the token it prints.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Paste the token that `styleset pair` prints.' : undefined),
  });
  const token = entered?.trim();
  if (token === undefined || token === '') return undefined;
  await secrets.store(SECRET_KEY, token);
  return token;
}
