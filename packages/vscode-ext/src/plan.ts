import { extname } from 'node:path';
import { isInside, relativePath, resolveTarget, webRootOf } from './paths';
import { imagePrompt } from './prompts';
import { findReferences, sourceKindOf } from './references';

export interface SourceFile {
  /** Absolute. */
  path: string;
  text: string;
  /** Its workspace folder, absolute: `/` paths, placeholder globs and writes are relative to it. */
  folder: string;
}

export interface Mention {
  file: string;
  line: number;
}

export interface PlannedImage {
  /** The PNG to write, absolute. */
  target: string;
  folder: string;
  prompt: string;
  /** No file there yet, or a file the placeholder glob marks as one to replace. */
  reason: 'missing' | 'placeholder';
  /** Where it is referenced, in scan order. */
  mentions: Mention[];
}

export interface SkippedImage {
  target: string;
  why: string;
}

export interface Plan {
  /** One per target file, in the order first referenced: the first is the set's style reference. */
  images: PlannedImage[];
  /** Missing images Styleset cannot fill, so the user hears why they stay missing. */
  skipped: SkippedImage[];
}

export interface PlanEnvironment {
  exists(path: string): Promise<boolean>;
  isDirectory(path: string): Promise<boolean>;
  /** Whether an existing file, by its workspace-relative path, is a placeholder to overwrite. */
  isPlaceholder(relativePath: string): boolean;
  styleHint: string;
}

/** The images to generate for these files' references: missing or placeholder PNGs, each once. */
export async function planImages(files: readonly SourceFile[], env: PlanEnvironment): Promise<Plan> {
  const planned = new Map<string, Omit<PlannedImage, 'prompt'> & { alt?: string }>();
  const skipped = new Map<string, string>();
  const settled = new Set<string>();
  const webRoots = new Map<string, string>();
  for (const file of files) {
    const kind = sourceKindOf(file.path);
    if (kind === undefined) continue;
    let webRoot = webRoots.get(file.folder);
    if (webRoot === undefined) {
      webRoot = await webRootOf(file.folder, env.isDirectory);
      webRoots.set(file.folder, webRoot);
    }
    for (const reference of findReferences(file.text, kind)) {
      const target = resolveTarget(reference.target, file.path, webRoot);
      const mention = { file: file.path, line: reference.line };
      const known = planned.get(target);
      if (known !== undefined) {
        known.mentions.push(mention);
        // Any reference's alt text beats a prompt made from the file name.
        known.alt ??= reference.alt;
        continue;
      }
      if (settled.has(target) || skipped.has(target)) continue;
      if (!isInside(file.folder, target)) {
        skipped.set(target, 'it is outside the workspace folder');
        continue;
      }
      const present = await env.exists(target);
      if (present && !env.isPlaceholder(relativePath(file.folder, target))) {
        settled.add(target);
        continue;
      }
      if (extname(target).toLowerCase() !== '.png') {
        skipped.set(target, 'Styleset makes PNG images and this reference names another format');
        continue;
      }
      planned.set(target, { target, folder: file.folder, reason: present ? 'placeholder' : 'missing', mentions: [mention], alt: reference.alt });
    }
  }
  return {
    images: [...planned.values()].map(({ alt, ...image }) => ({ ...image, prompt: imagePrompt({ alt, target: image.target }, env.styleHint) })),
    skipped: [...skipped].map(([target, why]) => ({ target, why })),
  };
}
