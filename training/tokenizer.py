"""CLIP byte-level BPE, small: a vocabulary built so every caption word is one token.

The files it writes (vocab.json, merges.txt) have the exact layout of openai/clip-vit-*
tokenizers, so the daemon's CLIP tokenizer reads them unchanged, and `encode` follows the same
algorithm (clean, lowercase, regex split, byte-to-unicode, rank-ordered merges, <w/> suffix,
BOS/EOS, pad with EOS to MAX_LENGTH) so training sees the ids the daemon will produce.
"""
import html
import json
import re
from collections import Counter

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
# 32 positions, not CLIP's 77: the longest training caption is 30 tokens with BOS and EOS, and the
# text encoder and every cross-attention cost in proportion (tokenizer_config.json says so, and the
# daemon pads and truncates to it).
MAX_LENGTH = 32

# CLIP's pattern, with \p{L} and \p{N} spelled for Python's re (no \p classes).
_SPLIT = re.compile(
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+",
    re.IGNORECASE,
)


def bytes_to_unicode():
    """GPT-2/CLIP map from bytes to printable unicode characters, in CLIP's vocab order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


BYTE_ENCODER = bytes_to_unicode()


def _symbols(word):
    chars = [BYTE_ENCODER[b] for b in word.encode("utf-8")]
    return chars[:-1] + [chars[-1] + "</w>"]


def learn_merges(words):
    """Greedy BPE over the word list until every word is a single symbol.

    Ties break on the pair itself so the merges are a pure function of the vocabulary.
    """
    seqs = [_symbols(w) for w in sorted(set(words))]
    merges = []
    while True:
        pairs = Counter()
        for s in seqs:
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += 1
        if not pairs:
            return merges
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = []
        for s in seqs:
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            merged.append(out)
        seqs = merged


class ClipTokenizer:
    def __init__(self, merges):
        base = list(BYTE_ENCODER.values())
        tokens = base + [c + "</w>" for c in base] + ["".join(m) for m in merges] + [BOS, EOS]
        self.merges = list(merges)
        self.encoder = {t: i for i, t in enumerate(tokens)}
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.bos_id = self.encoder[BOS]
        self.eos_id = self.encoder[EOS]
        self._cache = {}

    @classmethod
    def from_words(cls, words):
        return cls(learn_merges(words))

    @property
    def vocab_size(self):
        return len(self.encoder)

    def bpe(self, token):
        if token in self._cache:
            return self._cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            word = tuple(out)
        self._cache[token] = word
        return word

    def tokenize(self, text):
        text = re.sub(r"\s+", " ", html.unescape(html.unescape(text))).strip().lower()
        pieces = []
        for token in _SPLIT.findall(text):
            pieces.extend(self.bpe("".join(BYTE_ENCODER[b] for b in token.encode("utf-8"))))
        return pieces

    def encode(self, text):
        """BOS + tokens + EOS, truncated to MAX_LENGTH with EOS kept, padded with EOS (SD 1.x style)."""
        ids = [self.encoder[p] for p in self.tokenize(text)][: MAX_LENGTH - 2]
        ids = [self.bos_id] + ids + [self.eos_id]
        return ids + [self.eos_id] * (MAX_LENGTH - len(ids))

    def save(self, folder):
        with open(f"{folder}/vocab.json", "w", encoding="utf-8") as f:
            json.dump(self.encoder, f, ensure_ascii=False)
        with open(f"{folder}/merges.txt", "w", encoding="utf-8") as f:
            # CLIP's merges.txt starts with a version line that readers skip.
            f.write("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges))
        special = {"bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS}
        with open(f"{folder}/special_tokens_map.json", "w") as f:
            json.dump(special, f, indent=2)
        with open(f"{folder}/tokenizer_config.json", "w") as f:
            json.dump(
                {
                    **special,
                    "tokenizer_class": "CLIPTokenizer",
                    "model_max_length": MAX_LENGTH,
                    "do_lower_case": True,
                    "add_prefix_space": False,
                    "errors": "replace",
                    "clean_up_tokenization_spaces": True,
                },
                f,
                indent=2,
            )
