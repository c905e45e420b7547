"""Training checkpoints rebuilt from an exported folder (export.py's), so a run can continue from
the shipped weights when the runs that made them are gone (training/runs/ is not committed).

    /usr/bin/python3 training/import_onnx.py --model packages/daemon/models/default --out training/runs/shipped

Writes <out>/vae.pt (train_vae.py's layout: encoder and decoder) and <out>/unet.pt (train.py's
layout, for --init: the exported EMA weights as both the weights and the EMA; no optimiser state,
no name head, which train.py then starts fresh).

torch.onnx.export renames and transposes weights as it folds them (a Linear's weight becomes a
MatMul's "onnx::MatMul_123"), so names alone cannot map them back. Instead each module is
exported once with distinct random values in every tensor, through export.py's own code: the
initializer that holds a tensor's values (as is, reshaped or transposed) is that tensor's. The result is
checked by exporting it again: every graph must come out byte for byte the same as the folder's.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import filecmp
import json
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from export import export_graphs  # noqa: E402
from model import CLIPTextModel, UNet2DConditionModel, VaeDecoder, VaeEncoder  # noqa: E402
from tokenizer import ClipTokenizer  # noqa: E402
from train import TEXT_CONFIG, file_digest  # noqa: E402
from train_vae import save_checkpoint  # noqa: E402

def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_merges(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("#version"), f"{path}: expected CLIP's version line first"
    return [tuple(line.split(" ")) for line in lines[1:] if line]


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def distinct_values(modules, seed=0):
    """Every floating tensor filled with fresh normal draws: no two hold the same values (a fresh
    module's norms are all ones, its biases all zeros, which could not be told apart)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in modules:
            for v in module.state_dict().values():
                if v.dtype.is_floating_point:
                    v.copy_(torch.randn(v.shape, generator=g))


def name_map(module, probe):
    """{state-dict key: (initializer name, transposed)} for every floating tensor of module, found
    by its values among the probe export's initializers."""
    by_bytes = {}
    for name, array in probe.items():
        if array.dtype == np.float32:
            by_bytes.setdefault(array.tobytes(), []).append(name)
    found, missing = {}, []
    for key, v in module.state_dict().items():
        if not v.dtype.is_floating_point:
            continue
        plain = v.detach().numpy().astype(np.float32)
        candidates = [(n, False) for n in by_bytes.get(np.ascontiguousarray(plain).tobytes(), [])]
        if plain.ndim == 2:
            candidates += [(n, True) for n in by_bytes.get(np.ascontiguousarray(plain.T).tobytes(), [])]
        if len(candidates) != 1:
            missing.append(f"{key} ({len(candidates)} initializers hold its values)")
            continue
        found[key] = candidates[0]
    if missing:
        raise SystemExit("cannot map these tensors to the export's initializers: " + ", ".join(missing))
    return found


def load_from(module, mapping, shipped, where):
    state = module.state_dict()
    for key, (name, transposed) in mapping.items():
        if name not in shipped:
            raise SystemExit(f"{where}: no initializer {name!r} (for {key}); was it exported by this export.py?")
        array = shipped[name].T if transposed else shipped[name]
        if array.size != state[key].numel():
            raise SystemExit(f"{where}: {name} has shape {array.shape}, {key} expects {tuple(state[key].shape)}")
        # Reshaped, not only transposed: a GroupNorm's weight is stored as [C, 1, 1].
        state[key] = torch.from_numpy(np.array(array).reshape(tuple(state[key].shape)))
    module.load_state_dict(state)
    return module.eval()


def build(model_dir):
    """Freshly built modules for the folder's configs, by the name of the graph each exports to, and
    the configs a checkpoint records."""
    unet_config = {k: v for k, v in read_json(f"{model_dir}/unet/config.json").items() if not k.startswith("_")}
    text_json = read_json(f"{model_dir}/text_encoder/config.json")
    text_config = {k: text_json[k] for k in (*TEXT_CONFIG, "vocab_size")}
    vae_json = read_json(f"{model_dir}/vae_decoder/config.json")
    channels, latent_channels = vae_json["block_out_channels"], vae_json["latent_channels"]
    modules = {
        "unet": UNet2DConditionModel(unet_config),
        "text_encoder": CLIPTextModel(text_config),
        "vae_encoder": VaeEncoder(channels, latent_channels),
        "vae_decoder": VaeDecoder(channels, latent_channels),
    }
    return modules, {"unet_config": unet_config, "text_config": text_config, "channels": channels, "latent_channels": latent_channels, "scaling_factor": vae_json["scaling_factor"]}


def export_modules(out, modules, tokenizer):
    export_graphs(out, modules["unet"], modules["text_encoder"], modules["vae_encoder"], modules["vae_decoder"], tokenizer)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="packages/daemon/models/default")
    p.add_argument("--out", default="training/runs/shipped")
    p.add_argument("--data", default="training/data", help="make_data.py's folder: the vocabulary the tokenizer must match")
    args = p.parse_args()

    merges = read_merges(f"{args.model}/tokenizer/merges.txt")
    tokenizer = ClipTokenizer(merges)
    learned = ClipTokenizer.from_words(style.caption_vocabulary(read_json(f"{args.data}/vocabulary.json")["entries"]))
    if learned.merges != tokenizer.merges:
        raise SystemExit(f"{args.model}/tokenizer/merges.txt is not what training/vocabulary.json's captions learn: train.py would refuse it")

    with tempfile.TemporaryDirectory() as tmp:
        probe, meta = build(args.model)
        distinct_values(probe.values())
        export_modules(f"{tmp}/probe", probe, tokenizer)
        modules, _ = build(args.model)
        for part, m in modules.items():
            path = f"{args.model}/{part}/model.onnx"
            load_from(m, name_map(probe[part], initializers(f"{tmp}/probe/{part}/model.onnx")), initializers(path), path)

        export_modules(f"{tmp}/again", modules, tokenizer)
        differ = [part for part in modules if not filecmp.cmp(f"{tmp}/again/{part}/model.onnx", f"{args.model}/{part}/model.onnx", shallow=False)]
        if differ:
            raise SystemExit(f"exported again, these graphs differ from {args.model}'s: {', '.join(differ)} (another torch or onnx version than the export's?)")

    os.makedirs(args.out, exist_ok=True)
    vae_path = f"{args.out}/vae.pt"
    save_checkpoint(vae_path, {"step": 0, "encoder": modules["vae_encoder"].state_dict(), "decoder": modules["vae_decoder"].state_dict(), "channels": meta["channels"], "latent_channels": meta["latent_channels"], "imported_from": args.model})
    save_checkpoint(
        f"{args.out}/unet.pt",
        {
            "step": 0,
            "unet": modules["unet"].state_dict(),
            "text_encoder": modules["text_encoder"].state_dict(),
            "ema_unet": modules["unet"].state_dict(),
            "ema_text_encoder": modules["text_encoder"].state_dict(),
            "scaling_factor": meta["scaling_factor"],
            "merges": tokenizer.merges,
            "unet_config": meta["unet_config"],
            "text_config": meta["text_config"],
            "vae_path": vae_path,
            "vae_digest": file_digest(vae_path),
            "imported_from": args.model,
        },
    )
    print(f"imported {args.model} (re-exported byte for byte equal: {', '.join(modules)}) to {vae_path} and {args.out}/unet.pt")


if __name__ == "__main__":
    main()
