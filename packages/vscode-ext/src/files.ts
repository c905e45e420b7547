import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a PNG, creating its folder: a missing image often sits in a folder that is missing too. */
export async function writePng(target: string, png: Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, png);
}

export async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

export async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
