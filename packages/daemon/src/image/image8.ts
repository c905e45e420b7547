/** An 8-bit image, channels interleaved row by row (HWC): RGB, or RGBA for output. */
export interface Image8 {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

/** Caps on a decoded image, so a hostile or huge file fails cleanly instead of exhausting memory. */
export interface DecodeLimits {
  maxPixels: number;
}

/** 40 megapixels: well above any model size, below what a daemon should hold in memory for one image. */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPixels: 40_000_000 };
