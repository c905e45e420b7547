/** Named colours: the caption words for colour. Kept few so the tokenizer vocabulary stays small. */
export const COLORS = {
  red: [214, 40, 40],
  orange: [245, 130, 32],
  yellow: [250, 204, 21],
  green: [46, 160, 67],
  teal: [20, 150, 150],
  blue: [37, 99, 235],
  navy: [25, 35, 95],
  purple: [130, 60, 190],
  pink: [240, 120, 170],
  brown: [125, 80, 45],
  black: [20, 20, 24],
  gray: [128, 128, 135],
  white: [250, 250, 250],
  cream: [245, 235, 205],
} as const satisfies Record<string, readonly [number, number, number]>;

export type ColorName = keyof typeof COLORS;
export type Rgb = readonly [number, number, number];

export const COLOR_NAMES = Object.keys(COLORS) as ColorName[];

/** Rec. 601 luma in [0, 255]. */
export function luma([r, g, b]: Rgb): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/**
 * Colours far enough apart to read as different on a 64 px icon: either the brightness
 * differs or the hue does. Tuned so e.g. white/cream and navy/black count as too close.
 */
export function distinct(a: Rgb, b: Rgb): boolean {
  const dl = Math.abs(luma(a) - luma(b));
  const dc = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
  return dl > 60 || dc > 150;
}
