import { InputError } from '../errors';

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (Steele, Lea & Flood 2014): expands a seed into well-mixed 64-bit words. */
function splitMix64(state: bigint): { state: bigint; value: bigint } {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return { state: next, value: z ^ (z >> 31n) };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * Standard normal noise from a seed, the same on every platform:
 * - state: two SplitMix64 outputs from the seed, split into xoshiro128**'s four 32-bit words
 *   (low half first), as its authors recommend for seeding;
 * - uniforms: xoshiro128** 1.0 (Blackman & Vigna 2018), u = (x + 0.5) / 2^32, in (0, 1);
 * - normals: Box-Muller on consecutive uniforms (u1, u2): sqrt(-2 ln u1) · cos(2π u2), then the
 *   same radius · sin(2π u2). Tails are cut at about 6.8 sigma, irrelevant for latents.
 * Integer steps are exact; V8's Math.log/cos/sin are its own fdlibm ports, so values match
 * across operating systems and CPUs. The stream is one sequence however `next` calls split it.
 */
export class GaussianSource {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new InputError(`seed must be an integer from 0 to ${Number.MAX_SAFE_INTEGER} (got ${seed})`);
    }
    const a = splitMix64(BigInt(seed));
    const b = splitMix64(a.state);
    this.s0 = Number(a.value & 0xffffffffn);
    this.s1 = Number(a.value >> 32n);
    this.s2 = Number(b.value & 0xffffffffn);
    this.s3 = Number(b.value >> 32n);
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  private nextUniform(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  private nextNormal(): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(this.nextUniform()));
    const theta = 2 * Math.PI * this.nextUniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** The next `count` standard normal values. */
  next(count: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = this.nextNormal();
    return out;
  }
}
