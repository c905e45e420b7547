/** Words that already say what kind of picture it is, so "icon" is not added after them. */
const KIND_WORDS = /\b(?:icons?|logos?|illustrations?|photos?|photographs?|pictures?|images?|banners?|backgrounds?|patterns?|badges?|emojis?|stickers?|drawings?|sketch(?:es)?|textures?|screenshots?)\b/i;

const LEADING_ARTICLE = /^(?:a|an|the)\s/i;

/** Longer than this, alt text is a description of the picture and is used as it is. */
const MAX_NAME_WORDS = 3;

/** File name words that say nothing about the picture. */
const NOISE_WORDS = new Set(['placeholder', 'img', 'image', 'pic', 'tmp', 'temp']);

/**
 * "an" before a vowel sound: the vowel letters, except a "u" or "eu" sounded "you" (user, unicorn,
 * euro) and "one"; a silent "h" is rare enough in image names to ignore.
 */
function article(word: string): 'a' | 'an' {
  if (/^(?:u[^aeiou\s][aeiouy]|eu|one\b)/i.test(word)) return 'a';
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** Naming schemes that put the kind first: `icon-home.png`, Android's `ic_home.png`, `logo-acme.svg`. */
const KIND_PREFIXES = new Map([
  ['icon', 'icon'],
  ['ic', 'icon'],
  ['logo', 'logo'],
]);

/** "user-avatar@2x.png" -> "user avatar"; "heroImage.png" -> "hero"; "ic_home.png" -> "home icon". */
export function subjectFromFileName(fileName: string): string {
  const stem = fileName.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '').replace(/@\d+(?:\.\d+)?x$/i, '');
  const words = stem
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .split(/[^\p{L}\p{N}]+/u)
    .map((word) => word.toLowerCase())
    .filter((word) => word !== '');
  if (words.length === 0) return 'image';
  const meaningful = words.filter((word) => !NOISE_WORDS.has(word) && !/^\d+$/.test(word));
  const [first, ...rest] = meaningful.length > 0 ? meaningful : words;
  const kind = KIND_PREFIXES.get(first);
  return (kind !== undefined && rest.length > 0 ? [...rest, kind] : [first, ...rest]).join(' ');
}

/**
 * The prompt for one image: its alt text, else its file name. A short name becomes "a user avatar
 * icon"; longer alt text already describes the picture and is kept as written. The style hint goes
 * last, where it applies to the whole phrase.
 */
export function imagePrompt(image: { alt?: string; target: string }, styleHint = ''): string {
  const subject = image.alt ?? subjectFromFileName(image.target);
  const hint = styleHint.trim();
  const phrase = subject.split(' ').length > MAX_NAME_WORDS ? subject : iconPhrase(subject);
  return hint === '' ? phrase : `${phrase}, ${hint}`;
}

function iconPhrase(name: string): string {
  const subject = KIND_WORDS.test(name) ? name : `${name} icon`;
  return LEADING_ARTICLE.test(name) ? subject : `${article(name)} ${subject}`;
}
