"""A checkpoint written as a folder of files under a size limit, and read back whole.

A GPU machine hands back at most 16 MiB a file (training/README.md, "A GPU run"); a wider U-Net's
weights alone are larger. The folder holds `meta.pt` (everything but the tensors of the largest
state dicts) and `part-K.pt` files of those tensors; `load` merges them into the dict `save` was
given. export.py and preview.py take either a checkpoint file or such a folder.
"""
import os
import shutil

import torch

LIMIT = 15 * 2**20
SPLIT = ("ema_unet", "unet", "ema_text_encoder", "text_encoder")


def save(state, folder, limit=LIMIT):
    """Writes `state` to `folder` (replaced whole: a half-written folder never looks complete)."""
    tmp = folder.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    meta = {k: v for k, v in state.items() if k not in SPLIT}
    parts, part, size = [], {}, 0
    for key in SPLIT:
        for name, tensor in state.get(key, {}).items():
            tensor = tensor.detach().cpu()
            nbytes = tensor.numel() * tensor.element_size()
            if part and size + nbytes > limit:
                parts.append(part)
                part, size = {}, 0
            part[(key, name)] = tensor
            size += nbytes
    if part:
        parts.append(part)
    meta["shards"] = {"parts": len(parts), "split": [k for k in SPLIT if k in state]}
    torch.save(meta, os.path.join(tmp, "meta.pt"))
    for i, p in enumerate(parts):
        torch.save({f"{k}/{n}": t for (k, n), t in p.items()}, os.path.join(tmp, f"part-{i}.pt"))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def load(path, map_location="cpu"):
    """A checkpoint file, or a folder `save` wrote, as one dict."""
    if not os.path.isdir(path):
        return torch.load(path, map_location=map_location, weights_only=False)
    meta = torch.load(os.path.join(path, "meta.pt"), map_location=map_location, weights_only=False)
    shards = meta.pop("shards")
    state = {**meta, **{k: {} for k in shards["split"]}}
    for i in range(shards["parts"]):
        for key, tensor in torch.load(os.path.join(path, f"part-{i}.pt"), map_location=map_location).items():
            part, name = key.split("/", 1)
            state[part][name] = tensor
    return state
