import { LIMITS } from '@styleset/protocol';
import * as vscode from 'vscode';
import { output, log } from './output';
import type { Plan, PlannedImage } from './plan';
import { count } from './progress-words';

export type Scope = 'workspace' | 'file';

type Item = vscode.QuickPickItem & { image?: PlannedImage };

const SHOW_DETAILS = 'Show Details';

/**
 * The confirmation: every image preselected up to the protocol's limit, in set order, and below
 * them the references Styleset skips, each with its reason on a line of its own that filtering
 * keeps in view. The reasons also go to the output channel.
 */
export async function chooseImages(plan: Plan, scope: Scope): Promise<PlannedImage[] | undefined> {
  const relative = (path: string) => vscode.workspace.asRelativePath(path);
  for (const { target, why } of plan.skipped) log(`Skipped ${relative(target)}: ${why}`);
  if (plan.images.length === 0) {
    const where = scope === 'file' ? 'this file' : 'the workspace';
    if (plan.skipped.length === 0) {
      void vscode.window.showInformationMessage(`Styleset: ${where} references no missing or placeholder images.`);
      return undefined;
    }
    const chosen = await vscode.window.showInformationMessage(
      `Styleset: nothing to generate; ${count(plan.skipped.length, 'reference')} in ${where} ${plan.skipped.length === 1 ? 'was' : 'were'} skipped.`,
      SHOW_DETAILS,
    );
    if (chosen === SHOW_DETAILS) output().show(true);
    return undefined;
  }

  const max = LIMITS.maxPromptsPerJob;
  const images: Item[] = plan.images.map((image) => ({
    label: relative(image.target),
    description: image.prompt,
    detail: `${image.reason === 'missing' ? 'missing' : 'placeholder'} · ${mentions(image)}`,
    image,
  }));
  const skipped: Item[] = plan.skipped.map(({ target, why }) => ({
    label: `$(circle-slash) ${relative(target)}`,
    description: 'skipped',
    detail: why,
    alwaysShow: true,
  }));
  const pick = vscode.window.createQuickPick<Item>();
  pick.canSelectMany = true;
  pick.ignoreFocusOut = true;
  pick.matchOnDescription = true;
  pick.title = `Styleset: ${count(images.length, 'image')} to generate in one style${skipped.length > 0 ? ` · ${skipped.length} skipped` : ''}`;
  pick.placeholder = 'The first one sets the style for the others';
  pick.items = skipped.length === 0 ? images : [...images, { label: `Skipped (${skipped.length})`, kind: vscode.QuickPickItemKind.Separator }, ...skipped];
  pick.selectedItems = images.slice(0, max);
  const picked = await new Promise<readonly Item[] | undefined>((resolve) => {
    // A skipped reference has a checkbox like every item (VS Code cannot show an item without
    // one), so checking it is undone at once.
    pick.onDidChangeSelection((selection) => {
      if (selection.some((item) => item.image === undefined)) pick.selectedItems = selection.filter((item) => item.image !== undefined);
    });
    pick.onDidAccept(() => {
      resolve(pick.selectedItems);
      pick.hide();
    });
    pick.onDidHide(() => resolve(undefined));
    pick.show();
  });
  pick.dispose();
  const chosen = new Set((picked ?? []).filter((item) => item.image !== undefined));
  if (chosen.size === 0) return undefined;
  if (chosen.size > max) {
    void vscode.window.showErrorMessage(`Styleset: select at most ${max} images (${chosen.size} are selected), or generate for one file at a time.`);
    return undefined;
  }
  return images.filter((item) => chosen.has(item)).map((item) => item.image!);
}

function mentions(image: PlannedImage): string {
  const [first, ...others] = image.mentions;
  const where = `${vscode.workspace.asRelativePath(first.file)}:${first.line}`;
  return others.length === 0 ? `referenced in ${where}` : `referenced in ${where} and ${others.length} more`;
}
