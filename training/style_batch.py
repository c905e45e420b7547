"""style.draw for a whole batch at once, on any device: what lets a GPU run draw fresh samples every
step instead of reusing a CPU-encoded set (gpu_train.py).

The style choices stay on the CPU (style.sample_spec / group_spec: Python's `random`, the
captions); `style_params` turns each spec's style into one row of numbers, and `draw_batch` draws
all rows with tensor operations. It reproduces style.draw to float rounding (`check` measures it):
the glyph's area resampling is summed from an integer summed-area table over the same pixel ranges
torch's area interpolation averages.
"""
import math

import torch
import torch.nn.functional as F

import style

SIZE = style.SIZE
CONTAINERS = {"none": 0, "circle": 1, "rounded square": 2}
# Columns of a style row.
BG, GRADIENT, COS, SIN, SHIFT, CONTAINER, CSIZE, RADIUS, OFFX, OFFY = 0, 3, 4, 5, 6, 7, 8, 9, 10, 11
SURFACE, FOREGROUND, ACCENT, DUOTONE, SHADOW, BOX, LEFT, TOP = 12, 15, 18, 21, 22, 23, 24, 25
WIDTH = 26


def style_params(s):
    """One style dict as a row of WIDTH floats (colours jittered and clamped as style.draw does)."""
    j = s["jitter"]
    row = [0.0] * WIDTH
    row[BG : BG + 3] = style._color(s["background"], j[0]).tolist()
    row[GRADIENT] = float(s["gradient"])
    a = math.radians(s["gradient_angle"])
    row[COS], row[SIN], row[SHIFT] = math.cos(a), math.sin(a), s["gradient_shift"]
    row[CONTAINER] = float(CONTAINERS[s["container"]])
    row[CSIZE] = s.get("container_size", 0.0)
    row[RADIUS] = s["radius"]
    row[OFFX], row[OFFY] = s["offset"]
    if s["container"] != "none":
        row[SURFACE : SURFACE + 3] = style._color(s["surface"], j[1]).tolist()
    row[FOREGROUND : FOREGROUND + 3] = style._color(s["foreground"], j[2]).tolist()
    row[ACCENT : ACCENT + 3] = style._color(s["accent"], j[3]).tolist()
    row[DUOTONE] = float(s["kind"] == "duotone")
    row[SHADOW] = float(s["shadow"])
    # Python's rounding (half to even), exactly as style._place computes the box.
    size = max(8, int(round(s["box"] * SIZE)))
    row[BOX] = float(size)
    row[LEFT] = float(int(round((SIZE - size) / 2 + s["offset"][0] * SIZE)))
    row[TOP] = float(int(round((SIZE - size) / 2 + s["offset"][1] * SIZE)))
    return row


def _area_ranges(offset, size):
    """Per output pixel, the source range [start, end) that area interpolation from SIZE to `size`
    averages (adaptive pooling's floor / ceil bins), and whether the pixel lies in the box."""
    i = torch.arange(SIZE, device=offset.device)[None] - offset[:, None]
    inside = (i >= 0) & (i < size[:, None])
    i = i.clamp(min=0) % size[:, None].clamp(min=1)
    start = torch.div(i * SIZE, size[:, None], rounding_mode="floor")
    end = torch.div((i + 1) * SIZE + size[:, None] - 1, size[:, None], rounding_mode="floor")
    return start, end, inside


def place(masks, params):
    """Glyph masks [B, C, 128, 128] (uint8) placed as style._place does: [B, C, 128, 128] float."""
    b, c = masks.shape[:2]
    table = F.pad(masks.to(torch.int32).cumsum(-1).cumsum(-2), (1, 0, 1, 0)).reshape(b, c, -1)
    size = params[:, BOX].long()
    x0, x1, xin = _area_ranges(params[:, LEFT].long(), size)
    y0, y1, yin = _area_ranges(params[:, TOP].long(), size)
    w = SIZE + 1

    def at(y, x):
        index = (y[:, :, None] * w + x[:, None, :]).reshape(b, 1, -1).expand(b, c, -1)
        return table.gather(2, index).reshape(b, c, SIZE, SIZE)

    total = at(y1, x1) - at(y0, x1) - at(y1, x0) + at(y0, x0)
    count = ((y1 - y0)[:, :, None] * (x1 - x0)[:, None, :])[:, None]
    inside = (yin[:, :, None] & xin[:, None, :])[:, None]
    return torch.where(inside, total.float() / count.float() / 255, torch.zeros((), device=masks.device))


def _container_alpha(params, yy, xx):
    cx = (SIZE / 2 + params[:, OFFX] * SIZE)[:, None, None]
    cy = (SIZE / 2 + params[:, OFFY] * SIZE)[:, None, None]
    half = (params[:, CSIZE] * SIZE / 2)[:, None, None]
    circle = torch.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) - half
    r = params[:, RADIUS][:, None, None] * 2 * half
    qx = (xx - cx).abs() - (half - r)
    qy = (yy - cy).abs() - (half - r)
    square = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2) + torch.minimum(torch.maximum(qx, qy), torch.zeros((), device=qx.device)) - r
    kind = params[:, CONTAINER][:, None, None]
    return (0.5 - torch.where(kind == 1, circle, square)).clamp(0, 1)[:, None]


def draw_batch(masks, accents, params):
    """RGB images [B, 3, 128, 128] in [0, 1] from glyph masks and accents ([B, 128, 128] uint8,
    on the device) and style rows ([B, WIDTH] float): style.draw, batched."""
    yy, xx = style._YY.to(params.device)[None], style._XX.to(params.device)[None]
    col = lambda at: params[:, at : at + 3][:, :, None, None]  # noqa: E731
    flag = lambda at: (params[:, at] > 0.5)[:, None, None, None]  # noqa: E731
    bg = col(BG)
    t = (((xx - SIZE / 2) * params[:, COS][:, None, None] + (yy - SIZE / 2) * params[:, SIN][:, None, None]) / SIZE + 0.5).clamp(0, 1)[:, None]
    shift = params[:, SHIFT][:, None, None, None]
    end = torch.where(shift < 0, bg * (1 + shift), bg + (1 - bg) * shift)
    image = torch.where(flag(GRADIENT), bg + (end - bg) * t, bg.expand(-1, 3, SIZE, SIZE))
    placed = place(torch.stack([masks, accents], 1), params)
    glyph, accent_alpha = placed[:, 0:1], placed[:, 1:2]
    has_container = (params[:, CONTAINER] > 0.5)[:, None, None, None]
    body = torch.where(has_container, _container_alpha(params, yy, xx), glyph)
    d = max(2, int(round(0.025 * SIZE)))
    shadow = style._blur(style._shift(body, d, d)) * 0.35
    image = torch.where(flag(SHADOW), image * (1 - shadow), image)
    image = torch.where(has_container, image * (1 - body) + col(SURFACE) * body, image)
    image = torch.where(flag(DUOTONE), image * (1 - accent_alpha) + col(ACCENT) * accent_alpha, image)
    image = image * (1 - glyph) + col(FOREGROUND) * glyph
    return image.clamp(0, 1)


def check(bank, entries, seeds, device="cpu"):
    """The largest difference between draw_batch and style.draw over the seeds' samples."""
    specs = [style.sample_spec(bank, entries, seed) for seed in seeds]
    rows = torch.tensor([s["row"] for s in specs])
    params = torch.tensor([style_params(s["style"]) for s in specs], device=device)
    batch = draw_batch(bank.masks[rows].to(device), bank.accents[rows].to(device), params).cpu()
    reference = torch.stack([style.draw(*bank.glyph(s["row"]), s["style"])[0] for s in specs])
    return float((batch - reference).abs().max())
