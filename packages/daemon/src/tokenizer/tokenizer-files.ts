import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../errors';
import type { MergeRanks } from './bpe';

/** Everything a CLIP tokenizer folder says, validated. */
export interface TokenizerData {
  vocab: ReadonlyMap<string, number>;
  ranks: MergeRanks;
  /** Sequence length of `encode`, BOS and EOS included. */
  maxLength: number;
  lowerCase: boolean;
  bos: string;
  eos: string;
  unk: string;
  pad: string;
  /** Extra tokens from `added_tokens_decoder`, matched in the raw text like the special tokens. */
  addedTokens: ReadonlyMap<string, number>;
}

/** CLIPTokenizer reads at most this many merges (49152 - 256 - 2); later lines are ignored. */
const MAX_MERGES = 48894;
/** CLIP's text context; used when tokenizer_config.json does not say. */
const DEFAULT_MAX_LENGTH = 77;
const SPECIAL_DEFAULTS = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: '<|endoftext|>' };
type SpecialKey = keyof typeof SPECIAL_DEFAULTS;

async function readText(path: string, required: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') throw new ModelError(`${path} is missing: a CLIP tokenizer folder needs vocab.json and merges.txt`);
    throw new ModelError(`${path} could not be read (${(e as Error).message})`, { cause: e });
  }
}

function parseJsonObject(text: string, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`${path} is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelError(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

function parseVocab(text: string, path: string): Map<string, number> {
  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(parseJsonObject(text, path))) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new ModelError(`${path}: expected an object mapping tokens to non-negative integer ids; "${token}" maps to ${JSON.stringify(id)}`);
    }
    vocab.set(token, id);
  }
  return vocab;
}

function parseMerges(text: string, path: string): Map<string, number> {
  const lines = text.trim().split('\n');
  if (!lines[0].startsWith('#version')) {
    throw new ModelError(`${path}: expected a "#version: ..." header on line 1, then one merge per line (got "${lines[0].slice(0, 40)}")`);
  }
  const ranks = new Map<string, number>();
  lines.slice(1, 1 + MAX_MERGES).forEach((line, i) => {
    const pair = line.trim().split(/\s+/);
    if (pair.length !== 2 || pair[0] === '') {
      throw new ModelError(`${path} line ${i + 2}: expected two symbols separated by a space (got "${line.slice(0, 40)}")`);
    }
    // A repeated pair keeps its later rank, as Python's dict(zip(merges, range(n))) does.
    ranks.set(`${pair[0]} ${pair[1]}`, i);
  });
  return ranks;
}

/** A special token is written as a string or as an AddedToken object with `content`. */
function tokenContent(value: unknown, path: string, key: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  throw new ModelError(`${path}: "${key}" must be a string or an object with a string "content" (got ${JSON.stringify(value)})`);
}

function parseAddedTokens(value: unknown, path: string): Map<string, number> {
  const added = new Map<string, number>();
  if (value === undefined || value === null) return added;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ModelError(`${path}: "added_tokens_decoder" must be an object keyed by token id`);
  for (const [id, token] of Object.entries(value)) {
    const content = tokenContent(token, path, `added_tokens_decoder.${id}`);
    if (!/^\d+$/.test(id) || content === undefined) throw new ModelError(`${path}: "added_tokens_decoder" entry "${id}" must map an integer id to a token`);
    added.set(content, Number(id));
  }
  return added;
}

function maxLengthOf(config: Record<string, unknown>, path: string): number {
  const v = config.model_max_length;
  if (v === undefined || v === null) return DEFAULT_MAX_LENGTH;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 2 || v > 1_000_000) {
    throw new ModelError(`${path}: "model_max_length" must be an integer from 2 to 1000000 (got ${JSON.stringify(v)})`);
  }
  return v;
}

/**
 * Reads a Hugging Face CLIP tokenizer folder: vocab.json and merges.txt (required),
 * tokenizer_config.json and special_tokens_map.json (optional; the latter's tokens win, as in
 * transformers). Without a config the length is 77 and the tokens are CLIP's.
 */
export async function readTokenizerFiles(dir: string): Promise<TokenizerData> {
  const paths = {
    vocab: join(dir, 'vocab.json'),
    merges: join(dir, 'merges.txt'),
    config: join(dir, 'tokenizer_config.json'),
    specials: join(dir, 'special_tokens_map.json'),
  };
  const [vocabText, mergesText, configText, specialsText] = await Promise.all([
    readText(paths.vocab, true),
    readText(paths.merges, true),
    readText(paths.config, false),
    readText(paths.specials, false),
  ]);
  const vocab = parseVocab(vocabText!, paths.vocab);
  const ranks = parseMerges(mergesText!, paths.merges);
  const config = configText === undefined ? {} : parseJsonObject(configText, paths.config);
  const specialsMap = specialsText === undefined ? {} : parseJsonObject(specialsText, paths.specials);

  const lowerCase = config.do_lower_case ?? true;
  if (typeof lowerCase !== 'boolean') throw new ModelError(`${paths.config}: "do_lower_case" must be true or false`);
  const addedTokens = parseAddedTokens(config.added_tokens_decoder, paths.config);

  const special = (key: SpecialKey): string => {
    const token = tokenContent(specialsMap[key], paths.specials, key) ?? tokenContent(config[key], paths.config, key) ?? SPECIAL_DEFAULTS[key];
    if (!vocab.has(token) && !addedTokens.has(token)) throw new ModelError(`${dir}: ${key} "${token}" is not in vocab.json`);
    return token;
  };
  return {
    vocab,
    ranks,
    maxLength: maxLengthOf(config, paths.config),
    lowerCase,
    bos: special('bos_token'),
    eos: special('eos_token'),
    unk: special('unk_token'),
    pad: special('pad_token'),
    addedTokens,
  };
}
