import * as vscode from 'vscode';

const SECRET_KEY = 'styleset.pairingToken';

export async function storedToken(secrets: vscode.SecretStorage): Promise<string | undefined> {
  const stored = await secrets.get(SECRET_KEY);
  return stored === undefined || stored === '' ? undefined : stored;
}

/** The stored pairing token, or one the user enters now (then stored); undefined if they decline. */
export async function pairingToken(secrets: vscode.SecretStorage): Promise<string | undefined> {
  return (await storedToken(secrets)) ?? (await enterToken(secrets));
}

/** Asks for the token (saying why), and stores what is entered; undefined if the user declines. */
export async function enterToken(secrets: vscode.SecretStorage, reason = 'The Styleset daemon needs its pairing token once.'): Promise<string | undefined> {
  const entered = await vscode.window.showInputBox({
    title: 'Styleset pairing token',
    prompt: `${reason} Run "styleset pair" in a terminal and paste the token it prints.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Paste the token that "styleset pair" prints.' : undefined),
  });
  const token = entered?.trim();
  if (token === undefined || token === '') return undefined;
  await secrets.store(SECRET_KEY, token);
  return token;
}
