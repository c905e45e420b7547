import { readFile } from 'node:fs/promises';
import { ModelError } from '../errors';

/** Reads a JSON object from a model folder, naming the file in every failure. */
export async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelError(`${path}: cannot read ${what} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelError(`${path}: ${what} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError(`${path}: ${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Typed field readers: a config that exists but holds the wrong type is an error naming the key. */
export function numberField(obj: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelError(`${file}: missing "${key}" (expected a number)`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelError(`${file}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function numberArrayField(obj: Record<string, unknown>, key: string, file: string, fallback?: number[]): number[] {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelError(`${file}: missing "${key}" (expected an array of numbers)`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) {
    throw new ModelError(`${file}: "${key}" must be an array of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

export function stringField(obj: Record<string, unknown>, key: string, file: string, fallback?: string): string {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelError(`${file}: missing "${key}" (expected a string)`);
  }
  if (typeof v !== 'string') throw new ModelError(`${file}: "${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

export function booleanField(obj: Record<string, unknown>, key: string, file: string, fallback: boolean): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ModelError(`${file}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
