import type { RunEnd } from './messages';

const images = (count: number) => `${count} image${count === 1 ? '' : 's'}`;

export interface Summary {
  /** For Figma's toast, which any plugin may raise, so it names Styleset. */
  notice: string;
  /** For the plugin's own panel, whose error line already says why a failed run stopped; may be empty. */
  status: string;
  /** The run fell short of the set. */
  error: boolean;
}

export interface Placement {
  placed: number;
  total: number;
  frameName: string;
  /** The frame was deleted during the run, so nothing more was placed. */
  frameDeleted?: boolean;
}

/** How a run ended, counting what really landed in the frame. */
export function summarize(end: RunEnd, { placed, total, frameName, frameDeleted = false }: Placement): Summary {
  const into = `in “${frameName}”`;
  // Deleted once the whole set was in it, the frame went as the designer chose: nothing fell short.
  if (frameDeleted && placed < total) {
    const lost = `the frame “${frameName}” was deleted; ${total - placed} of ${images(total)} ${total - placed === 1 ? 'was' : 'were'} not placed.`;
    return { notice: `Styleset stopped: ${lost}`, status: `Stopped: ${lost}`, error: true };
  }
  switch (end.status) {
    case 'done': {
      const count = placed === total ? images(placed) : `${placed} of ${images(total)}`;
      return { notice: `Styleset placed ${count} ${into}.`, status: `Placed ${count} ${into}.`, error: placed < total };
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
