import { LIMITS } from '@styleset/protocol';
import { InvalidArgumentError } from 'commander';

/** Commander value parsers: a bad value names the flag's expectation instead of becoming NaN. */
export function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

export function decimal(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** The sampling flags every command that samples takes (`--steps`, `--guidance`, `--width`, `--height`), within the protocol's limits. */
export const parseSteps = integer(LIMITS.steps.min, LIMITS.steps.max);
export const parseGuidance = decimal(LIMITS.guidance.min, LIMITS.guidance.max);
export const parseImageSide = integer(8, LIMITS.size.max);

export function oneOf<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** `true`/`false` (also yes/no, on/off, 1/0) for options that default to either. */
export function boolean(value: string): boolean {
  const v = value.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${value}"`);
}
