/*
 * Text normalisation of Hugging Face's slow CLIPTokenizer when ftfy is not installed (its
 * BasicTokenizer with strip_accents=False and no punctuation splitting): drop NUL, U+FFFD and
 * other control/format characters, turn whitespace into spaces, put spaces around CJK
 * ideographs, NFC-normalise, lower-case, collapse whitespace and strip. HTML entities are not
 * unescaped (that is ftfy's job, and prompts rarely carry them).
 */

/** Python's unicodedata category C* (control, format, surrogate, private use, unassigned), except tab, LF, CR. */
const CONTROL = /[^\P{C}\t\n\r]/u;
/** BasicTokenizer's whitespace: space, tab, LF, CR and the space separators (Zs). */
const WHITESPACE = /[\t\n\r\p{Zs}]/u;

function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

export function cleanText(text: string, lowerCase: boolean): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    if (WHITESPACE.test(ch)) out += ' ';
    else if (isCjkIdeograph(cp)) out += ` ${ch} `;
    else out += ch;
  }
  out = out.normalize('NFC');
  if (lowerCase) out = out.toLowerCase();
  return out.trim().split(/\s+/).join(' ');
}
