import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** Folders that dev servers serve at `/` (Vite, Next.js, CRA: public/; SvelteKit: static/). */
const WEB_ROOT_FOLDERS = ['public', 'static'];

/**
 * Where `/logo.png` lives for a workspace folder: its public/ or static/ folder when it has one,
 * else the folder itself (a plain static site).
 */
export async function webRootOf(folder: string, isDirectory: (path: string) => Promise<boolean>): Promise<string> {
  for (const name of WEB_ROOT_FOLDERS) {
    const candidate = join(folder, name);
    if (await isDirectory(candidate)) return candidate;
  }
  return folder;
}

/** The absolute file a reference names: root-absolute against the web root, else next to the referencing file. */
export function resolveTarget(target: string, referencingFile: string, webRoot: string): string {
  return target.startsWith('/') ? join(webRoot, target) : resolve(dirname(referencingFile), target);
}

/** Whether `path` is `folder` or inside it: images are only ever written inside the workspace. */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** With forward slashes on every platform, as globs and people expect. */
export function relativePath(folder: string, path: string): string {
  return relative(folder, path).split(/[\\/]/).join('/');
}
