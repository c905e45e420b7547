import { LIMITS } from '@styleset/protocol';
import { promptFor } from './prompt-words';

export { promptFor, referencePromptFromName } from './prompt-words';

/** One image of the set: the name the designer typed (its layer name) and the prompt sent for it. */
export interface SetItem {
  name: string;
  prompt: string;
}

export type PreparedSet =
  | { ok: true; items: SetItem[]; /** Names typed more than once, dropped after the first. */ duplicates: string[] }
  | { ok: false; error: string };

/**
 * Names as a designer types them: separated by commas or line breaks in any mix, with stray
 * separators and blank lines ignored. A name typed twice (in any case) yields one image.
 */
export function parseNames(text: string): { names: string[]; duplicates: string[] } {
  const names: string[] = [];
  const duplicates: string[] = [];
  const seen = new Set<string>();
  for (const part of text.split(/[,\r\n]+/)) {
    const name = part.trim().replace(/\s+/g, ' ');
    if (name === '') continue;
    const key = name.toLowerCase();
    if (seen.has(key)) duplicates.push(name);
    else names.push(name);
    seen.add(key);
  }
  return { names, duplicates };
}

/** The set to submit, or the reason it cannot be, worded for the plugin panel. */
export function prepareSet(text: string, styleHint: string): PreparedSet {
  const { names, duplicates } = parseNames(text);
  if (names.length === 0) {
    return { ok: false, error: 'Type at least one name, e.g. "home, search, settings, profile".' };
  }
  const max = LIMITS.maxPromptsPerJob;
  if (names.length > max) {
    return {
      ok: false,
      error: `A set holds at most ${max} images and you listed ${names.length} names: remove ${names.length - max}, or split them into several sets.`,
    };
  }
  const items = names.map((name) => ({ name, prompt: promptFor(name, styleHint) }));
  const tooLong = items.find((item) => item.prompt.length > LIMITS.maxPromptLength);
  if (tooLong !== undefined) {
    return {
      ok: false,
      error: `The prompt for "${tooLong.name.slice(0, 40)}…" is over ${LIMITS.maxPromptLength} characters: shorten the name or the style hint.`,
    };
  }
  return { ok: true, items, duplicates };
}
