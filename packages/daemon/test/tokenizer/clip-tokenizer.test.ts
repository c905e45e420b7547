import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors';
import { ClipTokenizer } from '../../src/tokenizer/clip-tokenizer';

/*
 * A small CLIP vocabulary in the real on-disk format, laid out like openai/clip-vit-large-patch14:
 *   ids 0..255    the 256 byte symbols in GPT-2 table order: bytes '!'..'~' (ids 0..93: id = code - 33),
 *                 '¡'..'¬' (94..105), '®'..'ÿ' (106..187), then the 68 remapped bytes 0..32, 127..160,
 *                 173 as U+0100.. (188..255);
 *   ids 256..511  the same symbols with '</w>' (id + 256);
 *   ids 512..520  one token per merge below, in rank order;
 *   521, 522      <|startoftext|>, <|endoftext|>.
 */
function byteSymbols(): string[] {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = bytes.map((b) => String.fromCharCode(b));
  let next = 256;
  for (let b = 0; b < 256; b++) if (!bytes.includes(b)) chars.push(String.fromCharCode(next++));
  return chars;
}

const MERGES = [
  's t', // 0 -> st        512
  'st a', // 1 -> sta      513
  'a r</w>', // 2 -> ar</w>  514
  'sta r</w>', // 3 -> star</w> 515
  'r e', // 4 -> re        516
  're d</w>', // 5 -> red</w>  517
  'i t</w>', // 6 -> it</w>   518
  "' s</w>", // 7 -> 's</w>   519
  'Ã ©</w>', // 8 -> Ã©</w> (é at the end of a word) 520
];
const BOS = 521;
const EOS = 522;
/** id of a printable ASCII character as a symbol inside a word, and at its end. */
const mid = (c: string) => c.charCodeAt(0) - 33;
const end = (c: string) => 256 + mid(c);

function vocabulary(): Record<string, number> {
  const symbols = byteSymbols();
  const tokens = [...symbols, ...symbols.map((s) => s + '</w>'), ...MERGES.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  return Object.fromEntries(tokens.map((t, i) => [t, i]));
}

const added = (content: string) => ({ __type: 'AddedToken', content, lstrip: false, normalized: true, rstrip: false, single_word: false });

async function writeTokenizer(dir: string, pad: unknown, files: Record<string, string | null> = {}): Promise<string> {
  const contents: Record<string, string | null> = {
    'vocab.json': JSON.stringify(vocabulary()),
    'merges.txt': `#version: 0.2\n${MERGES.join('\n')}\n`,
    'tokenizer_config.json': JSON.stringify({
      add_prefix_space: false,
      bos_token: added('<|startoftext|>'),
      do_lower_case: true,
      eos_token: added('<|endoftext|>'),
      errors: 'replace',
      model_max_length: 77,
      pad_token: '<|endoftext|>',
      tokenizer_class: 'CLIPTokenizer',
      unk_token: added('<|endoftext|>'),
    }),
    'special_tokens_map.json': JSON.stringify({ bos_token: added('<|startoftext|>'), eos_token: added('<|endoftext|>'), pad_token: pad, unk_token: added('<|endoftext|>') }),
    ...files,
  };
  for (const [name, text] of Object.entries(contents)) if (text !== null) await writeFile(join(dir, name), text);
  return dir;
}

let root: string;
let sd1: ClipTokenizer;
let sd2: ClipTokenizer;
let count = 0;
const freshDir = async () => {
  const dir = join(root, `t${count++}`);
  await mkdir(dir);
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'styleset-tokenizer-'));
  sd1 = await ClipTokenizer.fromDir(await writeTokenizer(await freshDir(), '<|endoftext|>'));
  sd2 = await ClipTokenizer.fromDir(await writeTokenizer(await freshDir(), '!'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** encode(text).ids up to and including EOS. */
const head = (t: ClipTokenizer, text: string) => {
  const { ids, length } = t.encode(text);
  return [...ids.slice(0, length)];
};

describe('ClipTokenizer: tokenizations worked out by hand', () => {
  it('punctuation: "a star, red!"', () => {
    // words: "a" "star" "," "red" "!"
    // "a"    -> one symbol: a</w>
    // "star" -> s t a r</w>; lowest-ranked pair (s,t)=0 -> st a r</w>; (st,a)=1 beats (a,r</w>)=2 -> sta r</w>;
    //           (sta,r</w>)=3 -> star</w> (515)
    // ","    -> ,</w>;  "!" -> !</w>
    // "red"  -> r e d</w>; (r,e)=4 -> re d</w>; (re,d</w>)=5 -> red</w> (517)
    expect(head(sd1, 'a star, red!')).toEqual([BOS, end('a'), 515, end(','), 517, end('!'), EOS]);
  });

  it('merge ranks decide: "car" keeps c, "stars" stops at sta', () => {
    // "car": c a r</w>; only (a,r</w>)=2 applies -> c ar</w>
    expect(sd1.tokenize('car')).toEqual([mid('c'), 514]);
    // "stars": s t a r s</w> -> st a r s</w> -> sta r s</w>; (sta,r) is no merge (only sta r</w> is)
    expect(sd1.tokenize('stars')).toEqual([513, mid('r'), end('s')]);
  });

  it('upper case and extra whitespace normalise away', () => {
    const expected = head(sd1, 'a star, red!');
    expect(head(sd1, 'A STAR, Red!')).toEqual(expected);
    expect(head(sd1, '   a \t star,\n\n red!   ')).toEqual(expected);
  });

  it('numbers: every digit is its own word', () => {
    // "12 stars" -> "1" "2" "stars"; "2024" -> "2" "0" "2" "4"
    expect(sd1.tokenize('12 stars')).toEqual([end('1'), end('2'), 513, mid('r'), end('s')]);
    expect(sd1.tokenize('2024')).toEqual([end('2'), end('0'), end('2'), end('4')]);
  });

  it("apostrophes: \"it's\" splits as it + 's", () => {
    // "it" -> i t</w> -> it</w> (518); "'s" -> ' s</w> -> 's</w> (519)
    expect(sd1.tokenize("it's")).toEqual([518, 519]);
    expect(sd1.tokenize("IT'S")).toEqual([518, 519]);
  });

  it('non-ASCII: é is its two UTF-8 bytes C3 A9, shown as Ã (id 127) and © (id 102)', () => {
    // 'Ã' = byte 195, 21st of '®'..'ÿ' -> 106 + 21 = 127; '©' = byte 169, 9th of '¡'..'¬' -> 94 + 8 = 102
    // "café" -> c a f Ã ©</w>; merge 8 (Ã,©</w>) -> c a f Ã©</w>
    expect(sd1.tokenize('café')).toEqual([mid('c'), mid('a'), mid('f'), 520]);
    // "éa" -> Ã © a</w>, nothing merges: 127 102 a</w>
    expect(sd1.tokenize('éa')).toEqual([127, 102, end('a')]);
  });

  it('CJK ideographs become words of their own; control characters vanish', () => {
    // 猫 U+732B = E7 8C AB: E7 (231) -> 106 + 57 = 163; 8C (140) is remapped, the 47th remapped byte
    // (33 of 0..32, then 127..140 is the 14th) -> 188 + 46 = 234; AB (171) -> 94 + 10 = 104, at the end 360
    expect(sd1.tokenize('a猫b')).toEqual([end('a'), 163, 234, 360, end('b')]);
    // NUL is dropped: "astar" -> a s t a r</w> -> a st a r</w> -> a sta r</w> -> a star</w>
    expect(sd1.tokenize('a\u0000star')).toEqual([mid('a'), 515]);
  });

  it('pads after EOS up to model_max_length (SD 1.x pads with <|endoftext|>)', () => {
    const { ids, length } = sd1.encode('a star');
    expect(ids).toBeInstanceOf(Int32Array);
    expect(ids.length).toBe(77);
    expect(length).toBe(4);
    expect([...ids.slice(0, 4)]).toEqual([BOS, end('a'), 515, EOS]);
    expect([...ids.slice(4)]).toEqual(new Array(73).fill(EOS));
    expect(sd1.padId).toBe(EOS);
  });

  it('truncates an over-long prompt to 75 tokens, EOS at position 76', () => {
    const { ids, length } = sd1.encode('a '.repeat(100));
    expect(length).toBe(77);
    expect(ids[0]).toBe(BOS);
    expect([...ids.slice(1, 76)]).toEqual(new Array(75).fill(end('a')));
    expect(ids[76]).toBe(EOS);
    // 74 words + EOS + 2 pads: 'a' x 74 fills 1..74, EOS at 75, pad at 76
    const shorter = sd2.encode('a '.repeat(74));
    expect([shorter.ids[75], shorter.ids[76], shorter.length]).toEqual([EOS, 0, 76]);
  });

  it('SD 2.x / SDXL pad "!" (id 0), which also cuts every "!" out of the text as that token', () => {
    expect(sd2.padId).toBe(0);
    const { ids, length } = sd2.encode('a star, red!');
    // the trailing "!" is the special token (id 0), not the word "!</w>" (256)
    expect([...ids.slice(0, length)]).toEqual([BOS, end('a'), 515, end(','), 517, 0, EOS]);
    expect([...ids.slice(length)]).toEqual(new Array(77 - length).fill(0));
    // "!!" is two pad tokens, as transformers produces for SDXL's second tokenizer
    expect(sd2.tokenize('!!')).toEqual([0, 0]);
  });

  it('takes the pad token from special_tokens_map.json (string or object) over tokenizer_config.json', async () => {
    const t = await ClipTokenizer.fromDir(await writeTokenizer(await freshDir(), added('!')));
    expect(t.padId).toBe(0);
  });

  it('maps literal <|endoftext|> in a prompt to its id, and unknown merges to unk', async () => {
    expect(sd1.tokenize('a <|endoftext|> a')).toEqual([end('a'), EOS, end('a')]);
    // merge "x y</w>" exists but its result is not in vocab.json -> unk (<|endoftext|>)
    const t = await ClipTokenizer.fromDir(await writeTokenizer(await freshDir(), '<|endoftext|>', { 'merges.txt': `#version: 0.2\n${MERGES.join('\n')}\nx y</w>\n` }));
    expect(t.tokenize('xy')).toEqual([EOS]);
  });

  it('defaults to 77 tokens and CLIP special tokens without the optional JSON files', async () => {
    const t = await ClipTokenizer.fromDir(await writeTokenizer(await freshDir(), '', { 'tokenizer_config.json': null, 'special_tokens_map.json': null }));
    expect(t.maxLength).toBe(77);
    expect([t.bosId, t.eosId, t.padId]).toEqual([BOS, EOS, EOS]);
    expect(head(t, 'red')).toEqual([BOS, 517, EOS]);
  });
});

describe('ClipTokenizer.fromDir errors name the file', () => {
  async function failure(files: Record<string, string | null>, pad: unknown = '<|endoftext|>'): Promise<string> {
    const dir = await writeTokenizer(await freshDir(), pad, files);
    const error = await ClipTokenizer.fromDir(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    return (error as Error).message.replace(dir, '<dir>');
  }

  it('reports missing and malformed files', async () => {
    expect(await failure({ 'vocab.json': null })).toBe('<dir>/vocab.json is missing: a CLIP tokenizer folder needs vocab.json and merges.txt');
    expect(await failure({ 'merges.txt': null })).toContain('<dir>/merges.txt is missing');
    expect(await failure({ 'vocab.json': '{"a": 1,' })).toContain('<dir>/vocab.json is not valid JSON');
    expect(await failure({ 'vocab.json': '["a"]' })).toBe('<dir>/vocab.json: expected a JSON object');
    expect(await failure({ 'vocab.json': '{"a": "one"}' })).toContain('<dir>/vocab.json: expected an object mapping tokens to non-negative integer ids; "a" maps to "one"');
    expect(await failure({ 'merges.txt': 's t\n' })).toContain('<dir>/merges.txt: expected a "#version: ..." header on line 1');
    expect(await failure({ 'merges.txt': '#version: 0.2\ns t\nst a r\n' })).toContain('<dir>/merges.txt line 3: expected two symbols separated by a space (got "st a r")');
    expect(await failure({ 'tokenizer_config.json': '{"model_max_length": 1e30}' })).toContain('<dir>/tokenizer_config.json: "model_max_length" must be an integer from 2 to 1000000');
    expect(await failure({ 'special_tokens_map.json': 'nope' })).toContain('<dir>/special_tokens_map.json is not valid JSON');
    expect(await failure({}, 42)).toContain('<dir>/special_tokens_map.json: "pad_token" must be a string or an object with a string "content" (got 42)');
    expect(await failure({}, '<pad>')).toBe('<dir>: pad_token "<pad>" is not in vocab.json');
  });
});
