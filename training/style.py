"""The style space, applied procedurally to the glyph masks at training time, and the captions.

A sample is a glyph (one of a name's tabler / phosphor glyphs, chosen by the style's kind and
weight) drawn at 128x128 with: a palette (background, glyph, container, accent colours), outline /
filled / duotone, stroke weight, a container (none, circle, rounded square), a background (solid,
or a gradient; light or dark) and an optional soft shadow. Every choice comes from a
`random.Random` seeded by the caller, so a sample is a pure function of (glyph data, seed).

Captions name the style only part of the time (STYLE_NAMED): a shape-only prompt ("a home icon")
is genuinely ambiguous about style, and only shared attention makes a set agree.
"""
import math
import random
import re

import torch
import torch.nn.functional as F

SIZE = 128

# Named colours (sRGB). The caption uses the name; the pixel value is jittered a little around it,
# so a name covers a small region of colour rather than one value.
COLORS = {
    "white": (250, 250, 250),
    "cream": (253, 244, 222),
    "gray": (128, 132, 140),
    "black": (28, 28, 32),
    "red": (224, 52, 52),
    "orange": (247, 136, 20),
    "yellow": (250, 208, 40),
    "green": (60, 164, 80),
    "teal": (0, 140, 140),
    "blue": (36, 120, 230),
    "navy": (24, 36, 96),
    "purple": (128, 56, 200),
    "pink": (236, 90, 150),
    "brown": (120, 80, 56),
}
# Pale backgrounds: the light half of a designer's palettes ("on white", "on light blue").
LIGHT = ["white", "cream", "white", "cream", "yellow", "gray"]
DARK = ["black", "navy", "blue", "purple", "teal", "green", "red", "brown"]
STYLE_NAMED = 0.5
PIECE_NAMED = 0.6
JITTER = 10


def srgb_to_lab(rgb):
    def lin(c):
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047
    y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b
    z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883
    f = lambda t: t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116  # noqa: E731
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


LAB = {name: srgb_to_lab(rgb) for name, rgb in COLORS.items()}


def contrast(a, b):
    return math.dist(LAB[a], LAB[b])


def article(word):
    """As the Figma plugin and the VS Code extension write prompts: "an" before a vowel, except a
    "u" or "eu" sounded "you" (a user) and "one"."""
    if re.match(r"(?:u[^aeiou\s][aeiouy]|eu|one\b)", word):
        return "a"
    return "an" if word[0] in "aeiou" else "a"


def pick_contrasting(rng, options, against, minimum):
    ok = [c for c in options if all(contrast(c, a) >= minimum for a in against)]
    return rng.choice(ok)


def sample_style(rng):
    """Every style attribute, drawn independently where they can be, constrained to stay legible."""
    s = {}
    s["kind"] = rng.choices(["outline", "filled", "duotone"], [0.5, 0.3, 0.2])[0]
    s["weight"] = rng.choice(["thin", "regular", "bold"]) if s["kind"] == "outline" else "regular"
    s["container"] = rng.choices(["none", "circle", "rounded square"], [0.45, 0.25, 0.3])[0]
    s["dark"] = rng.random() < 0.4
    s["background"] = rng.choice(DARK if s["dark"] else LIGHT)
    s["gradient"] = rng.random() < 0.3
    s["shadow"] = rng.random() < 0.25
    if s["container"] == "none":
        s["surface"] = s["background"]
    else:
        s["surface"] = pick_contrasting(rng, list(COLORS), [s["background"]], 25)
    s["foreground"] = pick_contrasting(rng, list(COLORS), [s["surface"]], 45)
    s["accent"] = pick_contrasting(rng, list(COLORS), [s["surface"], s["foreground"]], 30)
    # A gradient runs from the background colour to a lighter or darker version of it.
    s["gradient_angle"] = rng.choice([90, 135, 45, 180])
    s["gradient_shift"] = rng.uniform(0.25, 0.5) * (1 if rng.random() < 0.5 else -1)
    s["jitter"] = [[rng.uniform(-JITTER, JITTER) for _ in range(3)] for _ in range(4)]
    if s["container"] == "none":
        s["box"] = rng.uniform(0.72, 0.9)  # glyph viewBox, fraction of the image
    else:
        s["container_size"] = rng.uniform(0.8, 0.94)
        s["box"] = s["container_size"] * rng.uniform(0.56, 0.66)
    s["radius"] = rng.uniform(0.18, 0.3)
    s["offset"] = [rng.uniform(-0.02, 0.02), rng.uniform(-0.02, 0.02)]
    return s


def style_pieces(s):
    """The caption's style phrases: (adjective, trailing phrases)."""
    adjective = s["kind"] if s["kind"] != "outline" or s["weight"] == "regular" else f"{s['weight']} outline"
    phrases = []
    if s["container"] == "none":
        phrases.append(f"{s['foreground']} on {s['background']}")
    else:
        phrases.append(f"{s['foreground']} on {article(s['surface'])} {s['surface']} {s['container']}")
        phrases.append(f"{s['background']} background")
    if s["kind"] == "duotone":
        phrases.append(f"{s['accent']} accent")
    if s["gradient"]:
        phrases.append("gradient background")
    phrases.append("dark background" if s["dark"] else "light background")
    if s["shadow"]:
        phrases.append("with shadow")
    return adjective, phrases


def caption(rng, words, s):
    word = words[0] if rng.random() < 0.5 else rng.choice(words)
    if rng.random() >= STYLE_NAMED:
        form = rng.random()
        if form < 0.75:
            return f"{article(word)} {word} icon"
        return f"{word} icon" if form < 0.9 else word
    adjective, phrases = style_pieces(s)
    kept = [p for p in phrases if rng.random() < PIECE_NAMED]
    head = f"{article(adjective)} {adjective} {word} icon" if rng.random() < PIECE_NAMED else f"{article(word)} {word} icon"
    return ", ".join([head] + kept)


def caption_vocabulary(entries):
    """Every word a caption can contain: the tokenizer makes each one a single token."""
    words = {"a", "an", "icon", "on", "with", "background", "accent", "gradient", "dark", "light", "shadow", "outline", "filled", "duotone", "thin", "bold", "circle", "rounded", "square"}
    words |= set(COLORS)
    for e in entries:
        for w in e["words"]:
            words |= set(w.split())
    return sorted(words)


# ------------------------------------------------------------------------------- drawing


def _color(name, jitter):
    return torch.tensor([min(255.0, max(0.0, c + j)) / 255 for c, j in zip(COLORS[name], jitter)])


def _gaussian(sigma):
    r = int(math.ceil(3 * sigma))
    x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


_BLUR = _gaussian(2.5)


def _blur(a):
    k = _BLUR.to(a)
    r = k.numel() // 2
    a = F.conv2d(F.pad(a, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(a, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))


def _shift(a, dx, dy):
    return F.pad(a, (dx, 0, dy, 0))[..., : a.shape[-2], : a.shape[-1]]


_YY, _XX = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32) + 0.5, torch.arange(SIZE, dtype=torch.float32) + 0.5, indexing="ij")


def _container_alpha(s):
    cx = SIZE / 2 + s["offset"][0] * SIZE
    cy = SIZE / 2 + s["offset"][1] * SIZE
    half = s["container_size"] * SIZE / 2
    if s["container"] == "circle":
        sdf = torch.sqrt((_XX - cx) ** 2 + (_YY - cy) ** 2) - half
    else:
        r = s["radius"] * 2 * half
        qx = (_XX - cx).abs() - (half - r)
        qy = (_YY - cy).abs() - (half - r)
        sdf = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2) + torch.minimum(torch.maximum(qx, qy), torch.zeros(())) - r
    return (0.5 - sdf).clamp(0, 1)[None]


def _place(mask, s):
    """The glyph mask (1, 128, 128 in [0, 1], viewBox = frame) scaled to the style's box and
    centred at the style's offset; area resampling keeps the edges anti-aliased."""
    size = max(8, int(round(s["box"] * SIZE)))
    small = F.interpolate(mask[None], size=(size, size), mode="area")[0]
    out = torch.zeros(mask.shape[0], SIZE, SIZE)
    left = int(round((SIZE - size) / 2 + s["offset"][0] * SIZE))
    top = int(round((SIZE - size) / 2 + s["offset"][1] * SIZE))
    out[:, top : top + size, left : left + size] = small
    return out


def draw(mask, accent, s):
    """RGB float image [3, 128, 128] in [0, 1], and the glyph's coverage [128, 128] in it."""
    j = s["jitter"]
    bg = _color(s["background"], j[0])[:, None, None]
    if s["gradient"]:
        a = math.radians(s["gradient_angle"])
        t = ((_XX - SIZE / 2) * math.cos(a) + (_YY - SIZE / 2) * math.sin(a)) / SIZE + 0.5
        end = bg * (1 + s["gradient_shift"]) if s["gradient_shift"] < 0 else bg + (1 - bg) * s["gradient_shift"]
        image = bg + (end - bg) * t.clamp(0, 1)[None]
    else:
        image = bg.expand(3, SIZE, SIZE).clone()
    placed = _place(torch.stack([mask, accent]), s)
    glyph, accent_alpha = placed[0:1], placed[1:2]
    body = glyph if s["container"] == "none" else _container_alpha(s)
    if s["shadow"]:
        d = max(2, int(round(0.025 * SIZE)))
        shadow = _blur(_shift(body[None], d, d))[0] * 0.35
        image = image * (1 - shadow)
    if s["container"] != "none":
        image = image * (1 - body) + _color(s["surface"], j[1])[:, None, None] * body
    if s["kind"] == "duotone":
        image = image * (1 - accent_alpha) + _color(s["accent"], j[3])[:, None, None] * accent_alpha
    image = image * (1 - glyph) + _color(s["foreground"], j[2])[:, None, None] * glyph
    return image.clamp(0, 1), glyph[0]


class GlyphBank:
    """The training glyphs, indexed for drawing: per name, per (kind, weight), the glyph rows."""

    def __init__(self, data):
        self.masks = torch.from_numpy(data["masks"])
        self.accents = torch.from_numpy(data["accents"])
        self.names = data["name_index"].astype(int)
        kinds = data["kind"]
        weights = data["weight"]
        self.count = int(self.names.max()) + 1
        self.rows = {}
        for i, (n, k, w) in enumerate(zip(self.names, kinds, weights)):
            self.rows.setdefault((int(n), str(k), str(w)), []).append(i)
            self.rows.setdefault((int(n), str(k), "any"), []).append(i)

    def glyph_row(self, rng, name, s):
        """The row of the glyph drawn for `name` in style `s` (which it may change to outline)."""
        rows = self.rows.get((name, s["kind"], s["weight"])) or self.rows.get((name, s["kind"], "any"))
        if not rows:  # no glyph of that kind: a name every set draws outline-only
            s["kind"], s["weight"] = "outline", "regular"
            rows = self.rows[(name, "outline", "regular")]
        return rng.choice(rows)

    def glyph(self, row):
        """The row's glyph mask and accent mask, [128, 128] in [0, 1]."""
        return self.masks[row].float() / 255, self.accents[row].float() / 255


def sample_spec(bank, entries, seed, captions=1, names=None):
    """What `sample` draws, without drawing it: the name's index, its style, the glyph's row and
    the captions, a pure function of the seed. `names` (a list of vocabulary indices) restricts
    the name to those; without it any name of the bank (the sequence `sample` has always drawn)."""
    rng = random.Random(seed)
    name = rng.choice(names) if names else rng.randrange(bank.count)
    s = sample_style(rng)
    row = bank.glyph_row(rng, name, s)
    texts = [caption(rng, entries[name]["words"], s) for _ in range(captions)]
    return {"name": name, "style": s, "row": row, "captions": texts}


def group_spec(bank, entries, seed, size, captions=1, first_names=None):
    """What `sample_group` draws, without drawing it: `size` specs in one style (one dict shared
    by all) with different names, a pure function of the seed. Names are drawn among those with a
    glyph of the style's kind, and among the vocabulary's first `first_names` when given."""
    rng = random.Random(seed)
    s = sample_style(rng)
    count = first_names or bank.count
    names = [n for n in range(count) if bank.rows.get((n, s["kind"], "any"))]
    if len(names) < size:
        s["kind"], s["weight"] = "outline", "regular"
        names = [n for n in range(count) if bank.rows.get((n, "outline", "any"))]
    specs = []
    for name in rng.sample(names, size):
        row = bank.glyph_row(rng, name, s)
        texts = [caption(rng, entries[name]["words"], s) for _ in range(captions)]
        specs.append({"name": name, "style": s, "row": row, "captions": texts})
    return specs


def _drawn(bank, spec):
    image, glyph = draw(*bank.glyph(spec["row"]), spec["style"])
    return {**spec, "image": image, "glyph": glyph}


def sample(bank, entries, seed, captions=1):
    """One training example, a pure function of the seed: the image (RGB [3, 128, 128] in
    [0, 1]), `captions` captions of it, its name's index, its style, and the glyph's coverage."""
    return _drawn(bank, sample_spec(bank, entries, seed, captions))


def sample_group(bank, entries, seed, size, captions=1, first_names=None):
    """`size` examples drawn in one style with different names, a pure function of the seed: the
    sets StyleAligned makes, so training can teach shared attention to carry the style
    (train.py --groups)."""
    return [_drawn(bank, spec) for spec in group_spec(bank, entries, seed, size, captions, first_names)]
