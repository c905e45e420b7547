import type { Phase } from '@styleset/protocol';

/**
 * What a person reads in the progress notification and the closing message: whole sentences,
 * counted in the right number, never the protocol's phase names or `step/total`.
 */

/** The set as the user knows it: its image files' names, in set order (the first sets the style). */
export interface SetWords {
  names: readonly string[];
  /** The style image's name, for a set in the style of an existing image (`reference` jobs). */
  styleImage?: string;
}

export interface ProgressWords {
  phase: Phase;
  step: number;
  total: number;
  /** The daemon's estimate of the time left in this phase. */
  etaMs?: number;
}

/** "1 image", "4 images". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

export function startText(set: SetWords): string {
  const n = set.names.length;
  return n === 1 ? 'Generating 1 image…' : `Generating ${count(n, 'image')} in one style…`;
}

/** A set of several sizes runs one job per size: "Next: 2 images at 32×32 (size 2 of 3)…". */
export function setText(index: number, sizes: number, set: { width: number; height: number; images: readonly unknown[] }): string {
  return `Next: ${count(set.images.length, 'image')} at ${set.width}×${set.height} (size ${index + 1} of ${sizes})…`;
}

/** While the job waits behind others on the daemon. */
export function queuedText(ahead: number): string {
  return `Waiting for ${count(ahead, 'job')} ahead of this one…`;
}

/**
 * "Drawing hero.png — step 12 of 50, about 40 seconds left": what the daemon is doing, the step
 * where the phase counts steps people wait through, and the time left when the daemon estimates it.
 */
export function progressText(progress: ProgressWords, set: SetWords): string {
  const { phase, step, total } = progress;
  const n = set.names.length;
  const prompts = n === 1 ? 'prompt' : 'prompts';
  let doing: string;
  let counted = false;
  switch (phase) {
    case 'loading':
      doing = 'Loading the model';
      break;
    case 'encoding':
      doing = set.styleImage === undefined ? `Reading the ${prompts}` : `Reading ${set.styleImage} and the ${prompts}`;
      break;
    case 'inverting':
      doing = `Learning the style of ${set.styleImage ?? 'the style image'}`;
      counted = true;
      break;
    case 'denoising':
      doing = `Drawing ${n === 1 ? set.names[0] : count(n, 'image')}`;
      counted = true;
      break;
    case 'decoding':
      // `step` is the image being saved, counted from 1.
      doing = total === 1 ? `Saving ${n === 1 ? set.names[0] : 'the image'}` : `Saving ${Math.max(step, 1)} of ${count(total, 'image')}`;
      break;
  }
  if (counted && step > 0) doing += ` — step ${step} of ${total}`;
  const eta = etaText(progress.etaMs);
  return eta === undefined ? `${doing}${counted && step > 0 ? '' : '…'}` : `${doing}, ${eta}`;
}

/** After an image's file is written; `written` counts it. */
export function writtenText(path: string, written: number, total: number): string {
  return total === 1 ? `Saved ${path}` : `Saved ${path} (${written} of ${total})`;
}

/**
 * "about 40 seconds left", rounded the way people say it; nothing under a second (the phase is
 * about to end) or when the daemon has no estimate yet.
 */
export function etaText(etaMs: number | undefined): string | undefined {
  if (etaMs === undefined || !Number.isFinite(etaMs) || etaMs < 1000) return undefined;
  const seconds = Math.round(etaMs / 1000);
  if (seconds < 60) return `about ${count(seconds, 'second')} left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${count(minutes, 'minute')} left`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `about ${count(hours, 'hour')}${rest === 0 ? '' : ` ${count(rest, 'minute')}`} left`;
}

/** The closing message of a run that was not a failure. */
export function finishedText(status: 'done' | 'cancelled', written: readonly string[], total: number): string {
  if (status === 'done') return written.length === 1 ? `Styleset wrote ${written[0]}.` : `Styleset wrote ${count(written.length, 'image')}.`;
  if (written.length === 0) return 'Styleset: cancelled before any image was written.';
  return `Styleset: cancelled after writing ${written.length} of ${count(total, 'image')}.`;
}

/** Appended to a failure: what the run had written before it failed. */
export function writtenBeforeFailure(written: number, total: number): string {
  return written === 0 ? '' : ` ${written} of ${count(total, 'image')} ${written === 1 ? 'was' : 'were'} written.`;
}

/** After the closing message, when the daemon said an image is not quite what was asked: the first reason, and how many. */
export function warningsText(warnings: readonly string[]): string {
  const [first] = warnings;
  const more = warnings.length - 1;
  return `${first}${/[.!?]$/.test(first) ? '' : '.'}${more > 0 ? ` (and ${count(more, 'more warning')})` : ''}`;
}
