"""Rasterises the default model's glyphs from the pinned icon packages.

    (cd training/icon-sources && npm ci)      # the pinned packages, outside the product's workspaces
    /usr/bin/python3 training/make_data.py    # ~1 min

Reads training/vocabulary.json (the curated names: their synonyms and which glyph of each icon
set draws them) and writes

  training/data/glyphs.npz  (gitignored) the training glyphs, anti-aliased coverage masks at
      128x128 (the glyph's viewBox fills the frame): @tabler/icons outline at three stroke widths
      and filled, @phosphor-icons/core light, regular, bold, fill and duotone (the duotone's
      translucent layer as a separate accent mask). lucide-static is never read here.
  packages/daemon/eval-data/  (committed) what `styleset eval` scores content against: every
      name's lucide-static glyph (the held-out set) and the training sets' own glyphs, 64x64,
      as one grayscale PNG sprite plus an index, and the three licences.

Everything is a pure function of the pinned package versions (cairosvg renders deterministically);
there is nothing random in this step. Colours, containers, backgrounds and shadows are applied
at training time (style.py).
"""
import io
import json
import os
import re
import shutil
import sys

import numpy as np
from PIL import Image

import cairosvg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = os.path.join(HERE, "icon-sources", "node_modules")
TABLER = os.path.join(SOURCES, "@tabler", "icons")
PHOSPHOR = os.path.join(SOURCES, "@phosphor-icons", "core")
LUCIDE = os.path.join(SOURCES, "lucide-static")

TRAIN_SIZE = 128
EVAL_SIZE = 64

# Tabler outline glyphs are strokes, so their weight is a rendering choice: 24-unit viewBox,
# default stroke 2. These three span Phosphor's light..bold.
TABLER_STROKES = {"thin": 1.25, "regular": 1.75, "bold": 2.5}
# Phosphor's `thin` (4/256 units) is about 1 px at the glyph sizes the model draws: left out.
PHOSPHOR_WEIGHTS = {"light": "thin", "regular": "regular", "bold": "bold"}


def package_version(folder):
    with open(os.path.join(folder, "package.json")) as f:
        return json.load(f)["version"]


def render(svg, size):
    """Coverage (alpha) of the SVG drawn in black at size x size, uint8."""
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=size, output_height=size)
    image = Image.open(io.BytesIO(png)).convert("RGBA")
    return np.asarray(image)[:, :, 3].copy()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def with_stroke(svg, width):
    out, n = re.subn(r'stroke-width="[0-9.]+"', f'stroke-width="{width}"', svg, count=1)
    assert n == 1, "tabler outline glyph without a stroke-width"
    return out


def phosphor_layers(svg):
    """A duotone glyph's opaque paths and its translucent (opacity 0.2) layer, as two SVGs."""
    head = svg[: svg.index(">") + 1]
    paths = re.findall(r"<path[^>]*/>", svg)
    accent = [p for p in paths if 'opacity="0.2"' in p]
    main = [p for p in paths if 'opacity="0.2"' not in p]
    assert accent and main, "duotone glyph without both layers"
    strip = lambda ps: "".join(p.replace(' opacity="0.2"', "") for p in ps)  # noqa: E731
    return head + strip(main) + "</svg>", head + strip(accent) + "</svg>"


def training_glyphs(entry, size):
    """(kind, weight, source, mask, accent) for every training glyph of a vocabulary entry."""
    blank = np.zeros((size, size), np.uint8)
    for name in entry["tabler"]:
        outline = read(os.path.join(TABLER, "icons", "outline", f"{name}.svg"))
        for weight, width in TABLER_STROKES.items():
            yield "outline", weight, f"tabler:{name}", render(with_stroke(outline, width), size), blank
        filled = os.path.join(TABLER, "icons", "filled", f"{name}.svg")
        if os.path.exists(filled):
            yield "filled", "none", f"tabler:{name}", render(read(filled), size), blank
    for name in entry["phosphor"]:
        for folder, weight in PHOSPHOR_WEIGHTS.items():
            file = name if folder == "regular" else f"{name}-{folder}"
            yield "outline", weight, f"phosphor:{name}", render(read(os.path.join(PHOSPHOR, "assets", folder, f"{file}.svg")), size), blank
        yield "filled", "none", f"phosphor:{name}", render(read(os.path.join(PHOSPHOR, "assets", "fill", f"{name}-fill.svg")), size), blank
        main, accent = phosphor_layers(read(os.path.join(PHOSPHOR, "assets", "duotone", f"{name}-duotone.svg")))
        yield "duotone", "regular", f"phosphor:{name}", render(main, size), render(accent, size)


def eval_glyphs(entry, size):
    """(set, glyph id, mask) for the evaluation: the held-out lucide glyph, then the training
    sets' own glyphs in their default weights (the calibration of the content score)."""
    lucide = entry["lucide"]
    yield "lucide", f"lucide:{lucide}", render(read(os.path.join(LUCIDE, "icons", f"{lucide}.svg")), size)
    for name in entry["tabler"]:
        yield "tabler", f"tabler:{name}", render(read(os.path.join(TABLER, "icons", "outline", f"{name}.svg")), size)
        filled = os.path.join(TABLER, "icons", "filled", f"{name}.svg")
        if os.path.exists(filled):
            yield "tabler", f"tabler:{name}:filled", render(read(filled), size)
    for name in entry["phosphor"]:
        yield "phosphor", f"phosphor:{name}", render(read(os.path.join(PHOSPHOR, "assets", "regular", f"{name}.svg")), size)
        yield "phosphor", f"phosphor:{name}:fill", render(read(os.path.join(PHOSPHOR, "assets", "fill", f"{name}-fill.svg")), size)


def check_vocabulary(vocabulary):
    names = [e["name"] for e in vocabulary]
    assert len(set(names)) == len(names), "duplicate names"
    owner = {}
    for e in vocabulary:
        assert e["words"][0] == e["name"], f"{e['name']}: the first word is the name itself"
        for w in e["words"]:
            assert w not in owner, f"'{w}' names both {owner[w]} and {e['name']}"
            owner[w] = e["name"]


def main():
    with open(os.path.join(HERE, "vocabulary.json")) as f:
        vocabulary = json.load(f)
    check_vocabulary(vocabulary)
    versions = {
        "@tabler/icons": package_version(TABLER),
        "@phosphor-icons/core": package_version(PHOSPHOR),
        "lucide-static": package_version(LUCIDE),
    }
    print("sources:", versions, flush=True)

    masks, accents, meta = [], [], []
    for index, entry in enumerate(vocabulary):
        for kind, weight, source, mask, accent in training_glyphs(entry, TRAIN_SIZE):
            masks.append(mask)
            accents.append(accent)
            meta.append((index, kind, weight, source))
    out = os.path.join(HERE, "data")
    os.makedirs(out, exist_ok=True)
    np.savez_compressed(
        os.path.join(out, "glyphs.npz"),
        masks=np.stack(masks),
        accents=np.stack(accents),
        name_index=np.array([m[0] for m in meta], np.int16),
        kind=np.array([m[1] for m in meta]),
        weight=np.array([m[2] for m in meta]),
        source=np.array([m[3] for m in meta]),
    )
    with open(os.path.join(out, "vocabulary.json"), "w") as f:
        json.dump({"entries": vocabulary, "sources": versions}, f, indent=1)
    print(f"{len(masks)} training glyphs for {len(vocabulary)} names -> {out}/glyphs.npz", flush=True)

    # The evaluation's glyphs: one sprite, a row of EVAL_SIZE pixels per glyph.
    rows, index = [], []
    for i, entry in enumerate(vocabulary):
        for group, glyph_id, mask in eval_glyphs(entry, EVAL_SIZE):
            index.append({"name": entry["name"], "set": group, "glyph": glyph_id})
            rows.append(mask)
    eval_dir = os.path.join(ROOT, "packages", "daemon", "eval-data")
    os.makedirs(os.path.join(eval_dir, "LICENSES"), exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0), mode="L").save(os.path.join(eval_dir, "glyphs.png"), optimize=True)
    with open(os.path.join(eval_dir, "glyphs.json"), "w") as f:
        json.dump(
            {
                "_note": "written by training/make_data.py: glyph i is rows i*size..(i+1)*size-1 of glyphs.png (coverage, 255 = inside)",
                "size": EVAL_SIZE,
                "sources": versions,
                "names": [e["name"] for e in vocabulary],
                "prompts": {e["name"]: e["words"] for e in vocabulary},
                "glyphs": index,
            },
            f,
            indent=1,
        )
        f.write("\n")
    model_licenses = os.path.join(ROOT, "packages", "daemon", "models", "default", "LICENSES")
    os.makedirs(model_licenses, exist_ok=True)
    for folder, file in ((TABLER, "tabler-icons.txt"), (PHOSPHOR, "phosphor-icons.txt"), (LUCIDE, "lucide.txt")):
        shutil.copyfile(os.path.join(folder, "LICENSE"), os.path.join(eval_dir, "LICENSES", file))
        if folder is not LUCIDE:  # lucide is not in the model's training data
            shutil.copyfile(os.path.join(folder, "LICENSE"), os.path.join(model_licenses, file))
    print(f"{len(index)} evaluation glyphs -> {eval_dir}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
