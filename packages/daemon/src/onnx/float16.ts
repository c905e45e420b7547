/**
 * IEEE 754 binary16 <-> binary32, bit-exact: round-to-nearest-even, subnormals, signed zeros,
 * infinities; NaNs stay NaN (quiet, keeping the top payload bits).
 */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

function halfFromFloatBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 112; // rebias 127 -> 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Below 2^-25 everything rounds to zero (2^-25 itself is a tie that goes to the even 0).
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const halfway = 1 << (shift - 1);
    const rest = significand & ((1 << shift) - 1);
    let half = significand >>> shift;
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    // A carry out of the subnormal range lands exactly on the smallest normal's bits.
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry may ripple into the exponent, up to infinity (0x7c00): that is the correct rounding.
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

function floatBitsFromHalf(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >>> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal half: normalise into a float32 exponent.
  let shifted = mantissa;
  let floatExponent = 113;
  while ((shifted & 0x400) === 0) {
    shifted <<= 1;
    floatExponent -= 1;
  }
  return (sign | (floatExponent << 23) | ((shifted & 0x3ff) << 13)) >>> 0;
}

/** The binary16 bit pattern nearest to `value` (ties to even). */
export function float32ToFloat16Bits(value: number): number {
  scratch[0] = value;
  return halfFromFloatBits(scratchBits[0]);
}

/** The value of a binary16 bit pattern (exact: every half is a float32). */
export function float16BitsToFloat32(bits: number): number {
  scratchBits[0] = floatBitsFromHalf(bits & 0xffff);
  return scratch[0];
}

export function float32ToFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfFromFloatBits(bits[i]);
  return out;
}

let halfTable: Uint32Array | undefined;

export function float16ToFloat32(halves: Uint16Array): Float32Array {
  // 256 KiB table: whole-model upcasts convert hundreds of millions of values.
  if (!halfTable) {
    halfTable = new Uint32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) halfTable[h] = floatBitsFromHalf(h);
  }
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = halfTable[halves[i]];
  return out;
}
