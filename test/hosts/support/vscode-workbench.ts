import type { Locator, Page } from 'playwright-core';

/**
 * Drives VS Code's workbench in the browser as a person does: keyboard shortcuts, the Command
 * Palette, notifications, menus. Selectors are VS Code's own class names (1.100, code-server
 * 4.100.3); playwright's CSS selectors reach into the shadow roots its menus use.
 */
export class Workbench {
  constructor(readonly page: Page) {}

  /** Opens the workbench and waits until the explorer shows the workspace. */
  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  }

  /** No tooltip from where the pointer happens to be, no notification still fading in. */
  async settleForScreenshot(): Promise<void> {
    await this.page.mouse.move(900, 420);
    await this.page.locator('.notifications-toasts .notification-toast:not(.notification-fade-in-done)').first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
  }

  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Runs a command by its title from the Command Palette. */
  async command(title: string): Promise<void> {
    await this.page.keyboard.press('F1');
    const input = this.quickInput.locator('input.input');
    await input.waitFor();
    await input.fill(`>${title}`);
    const row = this.quickInput.locator('.monaco-list-row', { hasText: title }).first();
    await row.waitFor();
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' }).catch(() => {});
  }

  /** Opens a workspace file in an editor (Quick Open) and waits for its text. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.quickInput.locator('input.input');
    await input.waitFor();
    await input.fill(name);
    await this.quickInput.locator('.monaco-list-row', { hasText: name }).first().waitFor();
    await this.page.keyboard.press('Enter');
    await this.page.locator(`.monaco-editor[data-uri$="/${name}"] .view-lines`).waitFor();
  }

  /** Opens an image from the Explorer (folder, then file) in VS Code's image preview, zoomed in. */
  async openImage(folder: string, name: string): Promise<void> {
    await this.expandFolder(folder);
    const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
    await row.click();
    // The preview is a webview: an iframe holding an iframe with the image.
    const image = this.page.frameLocator('iframe.webview').frameLocator('iframe').locator('img');
    await image.waitFor();
    for (let i = 0; i < 3; i++) await image.click();
    // Keyboard focus back to the workbench: the webview would keep the shortcuts.
    await row.click();
  }

  /** The visible quick pick's items (label and description), once it shows some. */
  async quickPickRows(): Promise<string[]> {
    const rows = this.quickInput.locator('.quick-input-list .monaco-list-row');
    await rows.first().waitFor();
    return rows.evaluateAll((elements) => elements.map((element) => (element.getAttribute('aria-label') ?? '').trim()));
  }

  /** Accepts the quick pick or input box as shown (Enter). */
  async accept(): Promise<void> {
    await this.quickInput.waitFor();
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
  }

  /** Types into the input box VS Code shows (the token prompt), and submits it. */
  async answerInputBox(text: string): Promise<string> {
    const input = this.quickInput.locator('input.input');
    await input.waitFor();
    const prompt = (await this.quickInput.locator('.quick-input-message, .quick-input-title').allInnerTexts()).join(' ');
    await input.fill(text);
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden' });
    return prompt;
  }

  /** A notification toast whose message contains the text, once it shows. */
  notification(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { has: this.page.locator('.notification-list-item-message', { hasText: text }) });
  }

  /** Waits for a notification and returns its message and buttons as shown. */
  async waitForNotification(text: string | RegExp, timeout = 120_000): Promise<{ message: string; buttons: string[] }> {
    const toast = this.notification(text).first();
    await toast.waitFor({ timeout });
    return {
      message: (await toast.locator('.notification-list-item-message').innerText()).trim(),
      buttons: (await toast.locator('.notification-list-item-buttons-container .monaco-button').allInnerTexts()).map((label) => label.trim()),
    };
  }

  async clickNotificationButton(text: string | RegExp, button: string): Promise<void> {
    await this.notification(text).first().locator('.notification-list-item-buttons-container .monaco-button', { hasText: button }).click();
  }

  /** Closes every notification toast, so that the next one is not confused with an old one. */
  async clearNotifications(): Promise<void> {
    await this.command('Notifications: Clear All Notifications');
    await this.page.locator('.notifications-toasts .notification-toast').first().waitFor({ state: 'detached' }).catch(() => {});
  }

  /** The modal dialog's message and buttons (VS Code's own dialog, drawn in the page). */
  async dialog(): Promise<{ message: string; buttons: string[]; dialog: Locator }> {
    const dialog = this.page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 120_000 });
    return {
      message: (await dialog.locator('.dialog-message-text').innerText()).trim(),
      buttons: (await dialog.locator('.dialog-buttons .monaco-button').allInnerTexts()).map((label) => label.trim()),
      dialog,
    };
  }

  /** The Problems view's entries, as text ("message … [Ln 3, Col 11]"). */
  async problems(): Promise<string[]> {
    await this.command('View: Focus Problems (Problems)').catch(() => this.command('Problems: Focus on Problems View'));
    const rows = this.page.locator('.markers-panel .monaco-list-row');
    await rows.first().waitFor();
    return rows.evaluateAll((elements) => elements.map((element) => (element.getAttribute('aria-label') ?? element.textContent ?? '').trim()));
  }

  /** The squiggles in the open editor, by severity. */
  squiggles(severity: 'warning' | 'info' | 'error'): Locator {
    return this.page.locator(`.monaco-editor .squiggly-${severity}`);
  }

  /**
   * Moves the cursor to the next problem in this file (Alt+F8; F8 may go on to another file) and
   * opens the quick fixes there (Ctrl+.).
   */
  async quickFixesAtNextProblem(): Promise<string[]> {
    // A file just opened is checked a moment later: wait for its first squiggle.
    await this.page.locator('.monaco-editor .squiggly-warning, .monaco-editor .squiggly-info').first().waitFor();
    const items = this.page.locator('.action-widget .monaco-list-row.action');
    // The editor asks the extension for code actions only once its diagnostics reached the
    // cursor's line; on a fast machine Ctrl+. can come first and show nothing. Ask again then.
    for (let attempt = 1; ; attempt++) {
      await this.page.locator('.monaco-editor .view-lines').first().click();
      await this.page.keyboard.press('Alt+F8');
      await this.page.keyboard.press('Escape');
      await this.page.keyboard.press('Control+.');
      const shown = await items.first().waitFor({ timeout: 10_000 }).then(() => true, () => false);
      if (shown) break;
      if (attempt === 3) throw new Error('no quick-fix menu opened at the next problem after 3 tries (Alt+F8, Ctrl+.)');
      await this.page.keyboard.press('Escape');
    }
    return items.allInnerTexts().then((texts) => texts.map((text) => text.trim()));
  }

  /** Chooses an entry of the open quick-fix menu with the keyboard, as the menu expects. */
  async chooseQuickFix(title: string): Promise<void> {
    const titles = (await this.page.locator('.action-widget .monaco-list-row.action').allInnerTexts()).map((text) => text.trim());
    const index = titles.indexOf(title);
    if (index === -1) throw new Error(`no quick fix "${title}" in ${JSON.stringify(titles)}`);
    for (let i = 0; i < index; i++) await this.page.keyboard.press('ArrowDown');
    await this.page.keyboard.press('Enter');
    await this.page.locator('.action-widget .monaco-list-row.action').first().waitFor({ state: 'hidden' });
  }

  /** Opens the Explorer's context menu on a file (by its name) and returns the menu's entries. */
  async explorerContextMenu(name: string): Promise<string[]> {
    // Selected first, then the menu key: a right-click could land on a row that moved meanwhile.
    const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
    await row.click();
    await this.page.locator(`.explorer-folders-view .monaco-list-row.selected[aria-label="${name}"]`).waitFor();
    await this.page.keyboard.press('Shift+F10');
    const items = this.page.locator('.context-view .monaco-menu .action-label');
    await items.first().waitFor();
    return items.allInnerTexts().then((texts) => texts.map((text) => text.trim()).filter((text) => text !== ''));
  }

  async chooseMenuItem(label: string): Promise<void> {
    await this.page.locator('.context-view .monaco-menu .action-label', { hasText: label }).first().click();
  }

  /** Expands a folder in the Explorer. */
  async expandFolder(name: string): Promise<void> {
    const row = this.page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
  }
}
