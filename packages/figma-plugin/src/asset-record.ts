/**
 * What the plugin writes on each layer it places (Figma plugin data, a string per key), so that a
 * layer can be regenerated later, after the plugin was closed and opened again: its prompt, its
 * seed, and the set's style as the daemon knows it.
 */

/** The plugin data key on every placed layer. */
export const ASSET_KEY = 'styleset.asset';

/** The style a set was made in: the reference image as the daemon inverted it. */
export interface SetStyle {
  /** Describes the reference image; the daemon inverted it with this prompt. */
  referencePrompt: string;
  /** The daemon's inversion job: reusing it skips exporting and inverting the reference again. */
  inversionJobId: string;
  /** The canvas node the reference was exported from; exported again if the inversion is gone. */
  referenceNodeId: string;
  /** The node's name when it was exported, for messages once it is gone. */
  referenceName: string;
}

/** What the daemon was asked to send back: a raster, or a vector traced from it; cut out of its background or not. */
export interface Output {
  format: 'png' | 'svg';
  transparent: boolean;
}

export const PNG_OUTPUT: Output = { format: 'png', transparent: false };

export interface AssetRecord {
  /** The name the designer typed: the layer's name. */
  name: string;
  prompt: string;
  /** The seed that reproduces the image. */
  seed: number;
  /** Made again, it comes back the same way. */
  output: Output;
  /** The set's style from the canvas; null for a set made from prompts alone or in a saved style. */
  style: SetStyle | null;
  /** A saved style's name (the daemon's style library), for a set made in one. */
  savedStyle?: string;
}

const VERSION = 1;

export function encodeAssetRecord(record: AssetRecord): string {
  return JSON.stringify({ v: VERSION, ...record });
}

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * The record on a layer, or undefined for a layer the plugin did not place (or placed by a later
 * version, or edited by hand into something else): such a layer is simply not an asset.
 */
export function parseAssetRecord(data: string): AssetRecord | undefined {
  if (data === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { v, name, prompt, seed, style, output: storedOutput, savedStyle } = value as Record<string, unknown>;
  if (v !== VERSION || !isString(name) || !isString(prompt) || !Number.isInteger(seed)) return undefined;
  const output = parseOutput(storedOutput);
  if (output === undefined) return undefined;
  if (style === null && isString(savedStyle)) return { name, prompt, seed: seed as number, output, style: null, savedStyle };
  if (style === null) return { name, prompt, seed: seed as number, output, style: null };
  if (typeof style !== 'object' || style === undefined) return undefined;
  const { referencePrompt, inversionJobId, referenceNodeId, referenceName } = style as Record<string, unknown>;
  if (![referencePrompt, inversionJobId, referenceNodeId, referenceName].every(isString)) return undefined;
  return {
    name,
    prompt,
    seed: seed as number,
    output,
    style: {
      referencePrompt: referencePrompt as string,
      inversionJobId: inversionJobId as string,
      referenceNodeId: referenceNodeId as string,
      referenceName: referenceName as string,
    },
  };
}

/** Layers placed before SVG output have no `output`: they are PNGs on their background. */
function parseOutput(value: unknown): Output | undefined {
  if (value === undefined) return PNG_OUTPUT;
  if (typeof value !== 'object' || value === null) return undefined;
  const { format, transparent } = value as Record<string, unknown>;
  if ((format !== 'png' && format !== 'svg') || typeof transparent !== 'boolean') return undefined;
  return { format, transparent };
}
