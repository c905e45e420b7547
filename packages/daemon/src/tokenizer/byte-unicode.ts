/**
 * GPT-2's reversible byte -> character table, which CLIP's BPE works on: printable Latin-1
 * bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the other 68 bytes take the
 * characters U+0100 onwards in byte order, so no symbol is whitespace or a control character.
 */
function buildTable(): string[] {
  const table = new Array<string>(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : next++);
  return table;
}

export const BYTE_TO_UNICODE: readonly string[] = buildTable();

/** A word's UTF-8 bytes as table characters. */
export function byteEncode(word: string): string {
  let out = '';
  for (const b of Buffer.from(word, 'utf8')) out += BYTE_TO_UNICODE[b];
  return out;
}
