import type { RunEnd } from './messages';

const images = (count: number) => `${count} image${count === 1 ? '' : 's'}`;

/** The notification a run ends with, counting what really landed in the frame. */
export function summarize(end: RunEnd, placed: number, total: number, frameName: string): { message: string; error: boolean } {
  const into = `in “${frameName}”`;
  switch (end.status) {
    case 'done':
      return {
        message: placed === total ? `Styleset placed ${images(placed)} ${into}.` : `Styleset placed ${placed} of ${images(total)} ${into}.`,
        error: placed < total,
      };
    case 'cancelled':
      return { message: `Styleset cancelled: ${placed} of ${images(total)} placed ${into}.`, error: false };
    case 'failed':
      return {
        message: placed === 0 ? `Styleset placed nothing: ${end.message}` : `Styleset placed ${placed} of ${images(total)} ${into}: ${end.message}`,
        error: true,
      };
  }
}
