import type { StyleInfo } from '@styleset/protocol';
import type { StylesetClient } from './daemon';

export const SAVED_STYLE = 'styleset.savedStyle';

/** `styleset.savedStyle` names no style the daemon keeps; `field` is the setting to correct. */
export class SavedStyleError extends Error {
  readonly code = 'style_not_found';
  readonly field = SAVED_STYLE;

  constructor(message: string) {
    super(message);
    this.name = 'SavedStyleError';
  }
}

/** The daemon's style of that name, with its size (for images whose references give none), or a SavedStyleError naming the styles there are. */
export async function findSavedStyle(client: Pick<StylesetClient, 'listStyles'>, name: string): Promise<{ width: number; height: number; style: StyleInfo }> {
  const styles = await client.listStyles();
  const style = styles.find((candidate) => candidate.name === name);
  if (style === undefined) {
    const there = styles.length === 0 ? 'it keeps none' : `it keeps ${styles.map((s) => s.name).join(', ')}`;
    throw new SavedStyleError(`${SAVED_STYLE}: the daemon keeps no style "${name}" (${there})`);
  }
  return { width: style.options.width, height: style.options.height, style };
}
