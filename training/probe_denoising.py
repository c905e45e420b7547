"""Does the U-Net read the caption, and how well does it denoise? On 8 training latents, noised to
several timesteps: the noise-prediction MSE with the right, shuffled and empty captions, the x0
error, and a picture (rows: VAE reconstruction, then the decoded x0 predictions at t = 300, 700, 990).
    /usr/bin/python3 training/probe_denoising.py <ckpt.pt> [out.png]
"""
import glob
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import load_trained, load_vae
from tokenizer import ClipTokenizer
import style, train
torch.set_num_threads(1)
ck = torch.load(sys.argv[1], map_location='cpu')
un, te = load_trained(ck)
vck = torch.load(os.path.join(HERE, 'runs/vae/ckpt.pt'), map_location='cpu')
_, dec = load_vae(vck)
part = torch.load(sorted(glob.glob(os.path.join(HERE, 'data', f"latents-seed1-vae{train.file_digest(os.path.join(HERE, 'runs/vae/ckpt.pt'))}", 'chunk-0000.pt')))[0])
# A curriculum run (train.py --names) is probed on its own names.
first = ck['args'].get('names') or 10**9
pick = [i for i, n in enumerate(part['names']) if n < first][:8]
lat = part['latents'][pick].float() * ck['scaling_factor']
part['captions'] = [part['captions'][i] for i in pick]
entries = json.load(open(os.path.join(HERE, 'data/vocabulary.json')))['entries']
tok = ClipTokenizer.from_words(style.caption_vocabulary(entries))
ids = torch.tensor([tok.encode(c[0]) for c in part['captions'][:8]], dtype=torch.int32)
wrong = torch.roll(ids, 1, 0)
empty = torch.tensor([tok.encode('')]*8, dtype=torch.int32)
acp = train.alphas_cumprod()
g = torch.Generator().manual_seed(0)
rows = []
with torch.no_grad():
    ctx, _ = te(ids); ctxw, _ = te(wrong); ctxe, _ = te(empty)
    for t in [20, 100, 300, 500, 700, 900, 990]:
        noise = torch.randn(lat.shape, generator=g)
        a = acp[t]
        x = a.sqrt()*lat + (1-a).sqrt()*noise
        tt = torch.full((8,), t)
        res = {}
        for name, c in [('right', ctx), ('wrong', ctxw), ('empty', ctxe)]:
            eps = un(x, tt, c)
            res[name] = ((eps-noise)**2).mean().item()
        x0 = (x - (1-a).sqrt()*un(x, tt, ctx))/a.sqrt()
        print(t, {k: round(v,4) for k,v in res.items()}, 'x0 mse', round(((x0-lat)**2).mean().item(),4), flush=True)
        if t in (300, 700, 990):
            rows.append(dec(x0/ck['scaling_factor']).clamp(-1,1))
    rows.insert(0, dec(lat/ck['scaling_factor']).clamp(-1,1))
from PIL import Image
img = torch.cat([torch.cat(list(r), 2) for r in rows], 1)
Image.fromarray(((img.permute(1,2,0).numpy()+1)*127.5).astype('uint8')).save(sys.argv[2] if len(sys.argv) > 2 else '/tmp/x0.png')
print([c[0] for c in part['captions'][:8]])
