import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

/** Every entry's time: the same inputs give the same zip, byte for byte. */
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');

export interface FigmaZip {
  file: string;
  /** The zip's entries: the manifest and the files it names, under one folder. */
  entries: string[];
}

interface FigmaManifest {
  main: string;
  ui?: string | Record<string, string>;
}

/**
 * The Figma plugin as "Import plugin from manifest…" takes it: unzipped, a folder with
 * manifest.json and the built files at the paths the manifest names (main, ui). Only those: the
 * plugin's sources and dev files stay out.
 */
export async function buildFigmaZip(pluginDir: string, outFile: string, folder: string): Promise<FigmaZip> {
  const manifestText = await readFile(join(pluginDir, 'manifest.json'), 'utf8');
  const manifest = JSON.parse(manifestText) as FigmaManifest;
  const uiFiles = manifest.ui === undefined ? [] : typeof manifest.ui === 'string' ? [manifest.ui] : Object.values(manifest.ui);
  const named = [manifest.main, ...uiFiles].map((path) => {
    const clean = posix.normalize(path);
    if (clean.startsWith('..') || posix.isAbsolute(clean)) throw new Error(`manifest.json names ${path}, outside the plugin folder`);
    return clean;
  });
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(manifestText), `${folder}/manifest.json`, { mtime: ZIP_TIME, mode: 0o100644 });
  for (const path of [...new Set(named)]) {
    const data = await readFile(join(pluginDir, normalize(path))).catch((error: Error) => {
      throw new Error(`manifest.json names ${path}, which is not built (run \`npm run build\`): ${error.message}`);
    });
    zip.addBuffer(data, `${folder}/${path}`, { mtime: ZIP_TIME, mode: 0o100644 });
  }
  zip.end();
  await mkdir(dirname(outFile), { recursive: true });
  await pipeline(zip.outputStream, createWriteStream(outFile));
  return { file: outFile, entries: [`${folder}/manifest.json`, ...[...new Set(named)].map((p) => `${folder}/${p}`)] };
}
