"""Does the U-Net draw the name it is given? On training latents of a run's names, the noise-prediction
MSE with the caption "a <name> icon" for the right name, for another name of the run's, and empty,
at the timesteps where the shape is made (style words left out: only the name differs).
    /usr/bin/python3 training/probe_names.py <ckpt.pt> [latents]
"""
import glob
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import load_trained  # noqa: E402
from tokenizer import ClipTokenizer  # noqa: E402
import style  # noqa: E402
import train  # noqa: E402

torch.set_num_threads(1)
ck = torch.load(sys.argv[1], map_location="cpu")
count = int(sys.argv[2]) if len(sys.argv) > 2 else 64
un, te = load_trained(ck)
first = ck["args"].get("names") or 10**9
vae_digest = train.file_digest(os.path.join(HERE, "runs/vae/ckpt.pt"))
part = torch.load(sorted(glob.glob(os.path.join(HERE, "data", f"latents-seed1-vae{vae_digest}", "chunk-0001.pt")))[0])
pick = [i for i, n in enumerate(part["names"]) if n < first][:count]
lat = part["latents"][pick].float() * ck["scaling_factor"]
names = [part["names"][i] for i in pick]
entries = json.load(open(os.path.join(HERE, "data/vocabulary.json")))["entries"]
tok = ClipTokenizer.from_words(style.caption_vocabulary(entries))
pool = sorted(set(names))
other = [pool[(pool.index(n) + len(pool) // 2) % len(pool)] for n in names]
def ids(ns):
    return torch.tensor([tok.encode(f"{style.article(entries[n]['words'][0])} {entries[n]['words'][0]} icon") for n in ns], dtype=torch.int32)
acp = train.alphas_cumprod()
g = torch.Generator().manual_seed(0)
with torch.no_grad():
    ctx = {k: te(v)[0] for k, v in [("right", ids(names)), ("other", ids(other)), ("empty", torch.tensor([tok.encode("")] * len(names), dtype=torch.int32))]}
    total = {k: 0.0 for k in ctx}
    for t in [400, 550, 700, 850]:
        noise = torch.randn(lat.shape, generator=g)
        a = acp[t]
        x = a.sqrt() * lat + (1 - a).sqrt() * noise
        tt = torch.full((len(names),), t)
        res = {k: ((un(x, tt, c) - noise) ** 2).mean().item() for k, c in ctx.items()}
        for k in res:
            total[k] += res[k]
        print(t, {k: round(v, 5) for k, v in res.items()}, f"other/right {res['other'] / res['right']:.3f}", flush=True)
    print(f"all: other/right {total['other'] / total['right']:.3f}, empty/right {total['empty'] / total['right']:.3f} ({len(names)} latents, {len(pool)} names)")
