import { WRITTEN_FORMATS_TEXT, formatName, imageFormatOf, type ImageFormat } from './formats';
import { isInside, relativePath, resolveTarget, webRootOf } from './paths';
import { imagePrompt } from './prompts';
import { findReferences, sourceKindOf, type ImageReference, type SizeHint } from './references';

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
  /** The file to write, absolute. */
  target: string;
  format: ImageFormat;
  /** How big a reference shows it, when one says. */
  size?: SizeHint;
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
  /** Whether Styleset wrote the file as it is now: a filled placeholder is one no longer. */
  isGenerated?(path: string): Promise<boolean>;
  styleHint: string;
}

/** What is at the end of a reference, and so what Styleset can do for it. */
export type ReferenceState =
  /** A real image (or one outside the workspace): nothing to do. */
  | { state: 'present' }
  /** No file yet, or a placeholder to replace, in a format Styleset writes. */
  | { state: 'missing' | 'placeholder'; format: ImageFormat }
  /** No file, or a placeholder, that Styleset cannot fill: `why` says so. */
  | { state: 'skipped'; why: string; missing: boolean };

export interface InspectedReference {
  reference: ImageReference;
  /** Absolute. */
  target: string;
  state: ReferenceState;
}

/** Looks the file's references up on disk: the diagnostics' view of one file, and the plan's of many. */
export async function inspectFile(file: SourceFile, env: PlanEnvironment, webRoots = new Map<string, string>()): Promise<InspectedReference[]> {
  const kind = sourceKindOf(file.path);
  if (kind === undefined) return [];
  let webRoot = webRoots.get(file.folder);
  if (webRoot === undefined) {
    webRoot = await webRootOf(file.folder, env.isDirectory);
    webRoots.set(file.folder, webRoot);
  }
  const states = new Map<string, Promise<ReferenceState>>();
  return Promise.all(
    findReferences(file.text, kind).map(async (reference) => {
      const target = resolveTarget(reference.target, file.path, webRoot);
      let state = states.get(target);
      if (state === undefined) {
        state = referenceState(target, file.folder, env);
        states.set(target, state);
      }
      return { reference, target, state: await state };
    }),
  );
}

async function referenceState(target: string, folder: string, env: PlanEnvironment): Promise<ReferenceState> {
  const present = await env.exists(target);
  if (!isInside(folder, target)) return present ? { state: 'present' } : { state: 'skipped', why: 'it is outside the workspace folder', missing: true };
  const placeholder = present && env.isPlaceholder(relativePath(folder, target)) && !(await env.isGenerated?.(target));
  if (present && !placeholder) return { state: 'present' };
  const format = imageFormatOf(target);
  if (format === undefined) return { state: 'skipped', why: `Styleset writes ${WRITTEN_FORMATS_TEXT} images, not ${formatName(target)}`, missing: !present };
  return { state: present ? 'placeholder' : 'missing', format };
}

/** The images to generate for these files' references: missing or placeholder images, each once. */
export async function planImages(files: readonly SourceFile[], env: PlanEnvironment): Promise<Plan> {
  const planned = new Map<string, Omit<PlannedImage, 'prompt'> & { alt?: string }>();
  const skipped = new Map<string, string>();
  const webRoots = new Map<string, string>();
  for (const file of files) {
    for (const { reference, target, state } of await inspectFile(file, env, webRoots)) {
      const mention = { file: file.path, line: reference.line };
      if (state.state === 'skipped' && !skipped.has(target)) skipped.set(target, state.why);
      if (state.state !== 'missing' && state.state !== 'placeholder') continue;
      const known = planned.get(target);
      if (known !== undefined) {
        known.mentions.push(mention);
        // Any reference's alt text beats a prompt made from the file name, and any size beats none.
        known.alt ??= reference.alt;
        known.size ??= reference.size;
        continue;
      }
      planned.set(target, {
        target,
        folder: file.folder,
        reason: state.state,
        format: state.format,
        ...(reference.size !== undefined && { size: reference.size }),
        mentions: [mention],
        alt: reference.alt,
      });
    }
  }
  return {
    images: [...planned.values()].map(({ alt, ...image }) => ({ ...image, prompt: imagePrompt({ alt, target: image.target }, env.styleHint) })),
    skipped: [...skipped].map(([target, why]) => ({ target, why })),
  };
}
