import type { RunEnd } from './messages';

const images = (count: number) => `${count} image${count === 1 ? '' : 's'}`;

export interface Summary {
  /** For Figma's toast, which any plugin may raise, so it names Styleset. */
  notice: string;
  /** For the plugin's own panel, whose error line already says why a failed run stopped; may be empty. */
  status: string;
  /** The run fell short. */
  error: boolean;
}

export interface Placement {
  /** A set fills a frame; a regeneration replaces one layer. */
  kind: 'set' | 'regenerate';
  placed: number;
  total: number;
  /** The frame's name, or the replaced layer's. */
  targetName: string;
  /** The frame (or the layer) was deleted during the run, so nothing more was placed. */
  targetDeleted?: boolean;
  /** The set's palette, made into this many local paint styles. */
  paintStyles?: number;
  /** Colours in the palette, when only the commonest became paint styles. */
  paletteColors?: number;
}

/** How a run ended, counting what really landed on the canvas. */
export function summarize(end: RunEnd, placement: Placement): Summary {
  return placement.kind === 'set' ? summarizeSet(end, placement) : summarizeRegeneration(end, placement);
}

function summarizeSet(end: RunEnd, { placed, total, targetName, targetDeleted = false, paintStyles = 0, paletteColors = paintStyles }: Placement): Summary {
  const into = `in “${targetName}”`;
  // Deleted once the whole set was in it, the frame went as the designer chose: nothing fell short.
  if (targetDeleted && placed < total) {
    const lost = `the frame “${targetName}” was deleted; ${total - placed} of ${images(total)} ${total - placed === 1 ? 'was' : 'were'} not placed.`;
    return { notice: `Styleset stopped: ${lost}`, status: `Stopped: ${lost}`, error: true };
  }
  switch (end.status) {
    case 'done': {
      const count = placed === total ? images(placed) : `${placed} of ${images(total)}`;
      const styles =
        paintStyles === 0
          ? ''
          : paletteColors > paintStyles
            ? `; its ${paintStyles} commonest of ${paletteColors} colours are paint styles “${targetName}/…”`
            : `; its ${paintStyles} colour${paintStyles === 1 ? ' is a paint style' : 's are paint styles'} “${targetName}/…”`;
      return { notice: `Styleset placed ${count} ${into}${styles}.`, status: `Placed ${count} ${into}${styles}.`, error: placed < total };
    }
    case 'cancelled':
      return {
        notice: `Styleset cancelled: ${placed} of ${images(total)} placed ${into}.`,
        status: `Cancelled: ${placed} of ${images(total)} placed ${into}.`,
        error: false,
      };
    case 'failed':
      return {
        notice: placed === 0 ? `Styleset placed nothing: ${end.message}` : `Styleset placed ${placed} of ${images(total)} ${into}: ${end.message}`,
        status: placed === 0 ? '' : `Placed ${placed} of ${images(total)} ${into}.`,
        error: true,
      };
  }
}

function summarizeRegeneration(end: RunEnd, { placed, targetName, targetDeleted = false }: Placement): Summary {
  if (placed === 1) return { notice: `Styleset replaced “${targetName}”.`, status: `Replaced “${targetName}” with a new image.`, error: false };
  if (targetDeleted) {
    const lost = `the layer “${targetName}” was deleted, so its new image was not placed.`;
    return { notice: `Styleset stopped: ${lost}`, status: `Stopped: ${lost}`, error: true };
  }
  switch (end.status) {
    case 'done':
      return { notice: `Styleset made no new image for “${targetName}”.`, status: `No new image for “${targetName}”.`, error: true };
    case 'cancelled':
      return { notice: `Styleset cancelled: “${targetName}” is as it was.`, status: `Cancelled: “${targetName}” is as it was.`, error: false };
    case 'failed':
      return { notice: `Styleset left “${targetName}” as it was: ${end.message}`, status: '', error: true };
  }
}
