import { bytePairEncode } from './bpe';
import { byteEncode } from './byte-unicode';
import { cleanText } from './clean-text';
import { readTokenizerFiles, type TokenizerData } from './tokenizer-files';

/** CLIP's pre-tokenizer: special tokens, English contractions, letter runs, single digits, symbol runs. */
const WORDS = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;
/** Words seen repeatedly (prompts of a set share most of them); cleared when full. */
const CACHE_LIMIT = 10_000;

export interface Encoding {
  /** BOS, tokens, EOS, then padding: exactly `maxLength` ids. */
  ids: Int32Array;
  /** Ids before the padding, BOS and EOS included (EOS sits at length - 1). */
  length: number;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The CLIP tokenizer as Hugging Face's slow CLIPTokenizer applies it for Stable Diffusion
 * (`padding="max_length", truncation=True`). As in transformers, the special tokens (and any
 * `added_tokens_decoder` entries) are cut out of the raw text first: with SD 2.x/SDXL's pad
 * token "!", every "!" in a prompt becomes the pad id.
 */
export class ClipTokenizer {
  readonly maxLength: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private readonly unkId: number;
  private readonly specialIds: ReadonlyMap<string, number>;
  private readonly specialPattern: RegExp;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(private readonly data: TokenizerData) {
    const idOf = (token: string) => data.addedTokens.get(token) ?? data.vocab.get(token)!;
    this.maxLength = data.maxLength;
    this.bosId = idOf(data.bos);
    this.eosId = idOf(data.eos);
    this.padId = idOf(data.pad);
    this.unkId = idOf(data.unk);
    const specials = new Set([data.bos, data.eos, data.unk, data.pad, ...data.addedTokens.keys()]);
    this.specialIds = new Map([...specials].map((t) => [t, idOf(t)]));
    // Longest first, so that at any position the longest special token wins.
    const alternatives = [...specials].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialPattern = new RegExp(`(${alternatives.join('|')})`, 'u');
  }

  static async fromDir(dir: string): Promise<ClipTokenizer> {
    return new ClipTokenizer(await readTokenizerFiles(dir));
  }

  /** Token ids of `text`, without BOS/EOS, padding or truncation. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    // split() with a capturing group alternates plain text (even indices) and special tokens (odd).
    text.split(this.specialPattern).forEach((part, i) => {
      if (i % 2 === 1) ids.push(this.specialIds.get(part)!);
      else for (const word of cleanText(part, this.data.lowerCase).match(WORDS) ?? []) ids.push(...this.wordIds(word));
    });
    return ids;
  }

  encode(text: string): Encoding {
    const tokens = this.tokenize(text).slice(0, this.maxLength - 2);
    const ids = new Int32Array(this.maxLength).fill(this.padId);
    ids[0] = this.bosId;
    ids.set(tokens, 1);
    ids[tokens.length + 1] = this.eosId;
    return { ids, length: tokens.length + 2 };
  }

  private wordIds(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    // CLIPTokenizer maps its two markers straight to their ids when they reach BPE.
    const symbols = word === '<|startoftext|>' || word === '<|endoftext|>' ? [word] : bytePairEncode(byteEncode(word), this.data.ranks);
    const ids = symbols.map((s) => this.data.vocab.get(s) ?? this.unkId);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, ids);
    return ids;
  }
}
