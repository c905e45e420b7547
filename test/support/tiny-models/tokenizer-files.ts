/**
 * CLIP tokenizer files in the real format: vocab.json holds the 256 byte symbols of GPT-2's
 * bytes_to_unicode, the same 256 with `</w>`, then one token per merge in rank order, then
 * <|startoftext|> and <|endoftext|> (so <|endoftext|> has the largest id, as CLIP's pooling
 * assumes). The merges are learned here by plain BPE over a list of prompt words.
 */

/** GPT-2/CLIP byte -> printable character map, in the order CLIP's vocabulary lists it. */
function byteSymbols(): string[] {
  const printable: number[] = [];
  for (let c = 0x21; c <= 0x7e; c++) printable.push(c);
  for (let c = 0xa1; c <= 0xac; c++) printable.push(c);
  for (let c = 0xae; c <= 0xff; c++) printable.push(c);
  const symbols = printable.map((c) => String.fromCharCode(c));
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (!printable.includes(byte)) symbols.push(String.fromCharCode(256 + next++));
  }
  return symbols;
}

// Words common in icon/asset prompts. The first group is weighted up so that it merges first.
const FREQUENT = 'a the of in on with and style icon photo red star blue flat simple set minimal illustration'.split(' ');
const WORDS = `an for to at by from photograph painting drawing sketch render art digital minimalist clean vector
logo emoji sticker badge button symbol pixel cartoon anime watercolor oil pencil ink line outline isometric
realistic detailed high quality lighting light dark background white black green yellow orange purple pink
brown gray gold silver color colorful pastel neon bright soft warm cool heart moon sun cloud rain snow fire
water tree flower leaf mountain house home car cat dog bird fish apple coffee cup book phone camera music
settings search user mail calendar clock lock key gear shield rocket globe map pin chat bell folder file
download upload arrow check plus close menu edit share play video image cart bag gift wallet chart robot
person face hand eye smile happy portrait landscape city street night sky space planet ocean beach forest
garden castle dragon`.split(/\s+/);

const MAX_MERGES = 600;

interface LearnedBpe {
  merges: [string, string][];
  vocab: string[];
}

function learnBpe(): LearnedBpe {
  const base = byteSymbols();
  const vocab = [...base, ...base.map((symbol) => `${symbol}</w>`)];
  const known = new Set(vocab);
  const words = [
    ...FREQUENT.map((word) => ({ word, count: 10 })),
    ...WORDS.map((word) => ({ word, count: 2 })),
  ].map(({ word, count }) => ({ symbols: [...word.slice(0, -1), `${word.slice(-1)}</w>`], count }));

  const merges: [string, string][] = [];
  while (merges.length < MAX_MERGES) {
    const counts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const pair = `${symbols[i]} ${symbols[i + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + count);
      }
    }
    // Most frequent pair first, ties by pair text; skip pairs whose result is a token already,
    // so that vocabulary ids stay 512 + merge rank as in CLIP's files.
    let best: string | undefined;
    let bestCount = 1;
    for (const [pair, count] of counts) {
      if (known.has(pair.replace(' ', ''))) continue;
      if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split(' ') as [string, string];
    const merged = left + right;
    merges.push([left, right]);
    vocab.push(merged);
    known.add(merged);
    for (const word of words) {
      const next: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === left && word.symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(word.symbols[i]);
        }
      }
      word.symbols = next;
    }
  }
  vocab.push('<|startoftext|>', '<|endoftext|>');
  return { merges, vocab };
}

let learned: LearnedBpe | undefined;

function bpe(): LearnedBpe {
  learned ??= learnBpe();
  return learned;
}

/** Number of tokens in the generated vocabulary (the text encoders' embedding rows). */
export function vocabSize(): number {
  return bpe().vocab.length;
}

const specialToken = (content: string) => ({ content, lstrip: false, normalized: true, rstrip: false, single_word: false });

/** The files of one tokenizer folder, by name. */
export function tokenizerFiles(padToken: '<|endoftext|>' | '!'): Record<string, string> {
  const { merges, vocab } = bpe();
  const ids = Object.fromEntries(vocab.map((token, id) => [token, id]));
  const addedTokens: Record<string, object> = {};
  for (const token of padToken === '!' ? ['!', '<|startoftext|>', '<|endoftext|>'] : ['<|startoftext|>', '<|endoftext|>']) {
    addedTokens[String(ids[token])] = { ...specialToken(token), special: true };
  }
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'vocab.json': JSON.stringify(ids),
    'merges.txt': `#version: 0.2\n${merges.map(([left, right]) => `${left} ${right}`).join('\n')}\n`,
    'tokenizer_config.json': json({
      add_prefix_space: false,
      added_tokens_decoder: addedTokens,
      bos_token: '<|startoftext|>',
      clean_up_tokenization_spaces: true,
      do_lower_case: true,
      eos_token: '<|endoftext|>',
      errors: 'replace',
      model_max_length: 77,
      pad_token: padToken,
      tokenizer_class: 'CLIPTokenizer',
      unk_token: '<|endoftext|>',
    }),
    'special_tokens_map.json': json({
      bos_token: specialToken('<|startoftext|>'),
      eos_token: specialToken('<|endoftext|>'),
      pad_token: padToken === '!' ? specialToken('!') : '<|endoftext|>',
      unk_token: specialToken('<|endoftext|>'),
    }),
  };
}
