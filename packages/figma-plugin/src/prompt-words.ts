// Prompts from names, with nothing from the protocol: the main thread uses these too, and its
// bundle stays free of the protocol's schemas.

/** Words that already say what kind of picture it is, so "icon" is not added after them. */
const KIND_WORDS = /\b(?:icons?|logos?|illustrations?|photos?|photographs?|pictures?|images?|banners?|backgrounds?|patterns?|badges?|emojis?|stickers?|drawings?|sketch(?:es)?|textures?)\b/i;

const LEADING_ARTICLE = /^(?:a|an|the)\s/i;

/**
 * "an" before a vowel sound: the vowel letters, except a "u" or "eu" sounded "you" (user, unicorn,
 * euro) and "one"; a silent "h" is rare enough in icon names to ignore.
 */
function article(word: string): 'a' | 'an' {
  if (/^(?:u[^aeiou\s][aeiouy]|eu|one\b)/i.test(word)) return 'a';
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** "home" -> "a home icon"; "weather illustration" keeps its own kind; the style hint goes last. */
export function promptFor(name: string, styleHint = ''): string {
  const subject = KIND_WORDS.test(name) ? name : `${name} icon`;
  const phrase = LEADING_ARTICLE.test(name) ? subject : `${article(name)} ${subject}`;
  const hint = styleHint.trim();
  return hint === '' ? phrase : `${phrase}, ${hint}`;
}

/** Names Figma gives new layers: they say nothing about the picture. */
const DEFAULT_LAYER_NAME =
  /^(?:frame|rectangle|group|ellipse|vector|image|component|instance|union|subtract|intersect|exclude|polygon|line|arrow|section|slice|text)$/i;

/**
 * A reference prompt from a layer's name, the way icon libraries name layers: "icons/Star-filled
 * 24" becomes "a Star filled icon". Empty when the name says nothing about the picture: a name
 * Figma gave the layer ("Frame 12"), or a variant's properties ("Size=24, Style=Filled").
 */
export function referencePromptFromName(layerName: string): string {
  const segment = layerName.split('/').filter((part) => part.trim() !== '').at(-1) ?? '';
  if (segment.includes('=')) return '';
  const name = segment
    .replace(/@\d+x\b/gi, ' ')
    .replace(/[-_]+/g, ' ')
    .replace(/\s+\d+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (name === '' || DEFAULT_LAYER_NAME.test(name) || /^\d+$/.test(name)) return '';
  return promptFor(name);
}
