"""Samples a grid from a checkpoint with DDIM in torch, to judge a run before exporting.

    /usr/bin/python3 training/preview.py --ckpt training/runs/unet/ckpt.pt --out /tmp/preview.png

Rows are prompts, columns seeds. Mirrors the daemon's sampler (SD DDIM, leading spacing,
steps_offset 1, eta 0, classifier-free guidance), not its shared attention.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shards  # noqa: E402
from model import load_trained, load_vae  # noqa: E402
from tokenizer import ClipTokenizer  # noqa: E402
from train import TRAIN_STEPS, alphas_cumprod  # noqa: E402

PROMPTS = [
    "a star icon",
    "a heart icon",
    "a moon icon",
    "a house icon",
    "a search icon",
    "a settings icon",
    "a user icon",
    "a bell icon",
    "a camera icon, white on a blue circle",
    "an outline mail icon, navy on white",
]


@torch.no_grad()
def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", default="training/runs/unet/ckpt.pt")
    p.add_argument("--out", default="/tmp/preview.png")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=7.5)
    p.add_argument("--seeds", type=int, default=6)
    p.add_argument("--raw", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(2)

    ck = shards.load(args.ckpt)
    unet, text = load_trained(ck, args.raw)
    tok = ClipTokenizer(ck["merges"])
    vae = torch.load(ck["vae_path"])
    _, decoder = load_vae(vae)
    acp = alphas_cumprod()
    cfg = ck["unet_config"]

    rows = []
    for prompt in PROMPTS:
        n = args.seeds
        ids = torch.tensor([tok.encode("")] * n + [tok.encode(prompt)] * n, dtype=torch.int32)
        ctx, _ = text(ids)
        g = torch.Generator().manual_seed(0)
        z = torch.randn(n, cfg["in_channels"], cfg["sample_size"], cfg["sample_size"], generator=g)
        stride = TRAIN_STEPS // args.steps
        for k in reversed(range(args.steps)):
            t = k * stride + 1
            eps_u, eps_c = unet(torch.cat([z, z]), torch.full((2 * n,), t), ctx).chunk(2)
            eps = eps_u + args.guidance * (eps_c - eps_u)
            a = acp[t]
            a_prev = acp[t - stride] if t - stride >= 0 else acp[0]
            x0 = (z - (1 - a).sqrt() * eps) / a.sqrt()
            z = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        img = decoder(z / ck["scaling_factor"])
        img = ((img.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
        rows.append(np.concatenate(list(img), axis=1))
        print(prompt, flush=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"wrote {args.out} (step {ck['step']})")


if __name__ == "__main__":
    main()
