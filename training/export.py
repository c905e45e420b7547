"""Exports a training checkpoint to the Optimum ONNX layout of a Stable Diffusion 1.x model.

    /usr/bin/python3 training/export.py --ckpt training/runs/unet/ckpt.pt --out packages/daemon/models/default

--ckpt takes a checkpoint file or a shards.py folder (a GPU run's <out>/ckpt).

Writes model_index.json, unet/, text_encoder/, tokenizer/, vae_encoder/, vae_decoder/, scheduler/
(replacing those folders) and LICENSES/ (the training glyphs' licences, when the folder has none),
so the daemon loads the default model through the same code path as a real SD 1.x export.
Uses the EMA weights unless --raw. Checks every graph with onnx.checker and lists the U-Net's
self-attention (attn1) projections the shared-attention rewrite will look for.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import shutil
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shards  # noqa: E402
from model import VaeMeanEncoder, load_trained, load_vae  # noqa: E402
from tokenizer import MAX_LENGTH, ClipTokenizer  # noqa: E402
from train import BETA_END, BETA_START, IMAGE_SIZE, TRAIN_STEPS, VAE_FACTOR  # noqa: E402

DIFFUSERS_VERSION = "0.21.4"
PARTS = ("unet", "text_encoder", "tokenizer", "vae_decoder", "vae_encoder", "scheduler")
# make_data.py writes the training glyphs' licences here; an export elsewhere takes a copy.
LICENSES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "packages", "daemon", "models", "default", "LICENSES")
OPSET = 14


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def export(module, args, path, inputs, outputs, dynamic):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    module.eval()
    with torch.no_grad():
        torch.onnx.export(
            module,
            args,
            path,
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
        )
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return model


def vae_config(vae, scaling_factor):
    channels = vae["channels"]
    assert 2 ** (len(channels) - 1) == VAE_FACTOR  # the daemon's downscale is 2^(len - 1)
    return {
        "_class_name": "AutoencoderKL",
        "_diffusers_version": DIFFUSERS_VERSION,
        "in_channels": 3,
        "out_channels": 3,
        "latent_channels": vae["latent_channels"],
        "block_out_channels": channels,
        "down_block_types": ["DownEncoderBlock2D"] * len(channels),
        "up_block_types": ["UpDecoderBlock2D"] * len(channels),
        "layers_per_block": 1,
        "act_fn": "silu",
        "norm_num_groups": 1,
        "sample_size": IMAGE_SIZE,
        "scaling_factor": scaling_factor,
        "force_upcast": False,
        "_styleset_note": "a small convolutional autoencoder (training/model.py VaeEncoder/VaeDecoder), not diffusers' AutoencoderKL; the ONNX graphs are what count",
    }


def export_graphs(out, unet, text_encoder, encoder, decoder, tokenizer):
    """The four ONNX graphs under out/<part>/model.onnx; returns the U-Net's. import_onnx.py
    exports through this too, so its name map is the shipped graphs' own."""
    ucfg = unet.config
    latent = ucfg["sample_size"]
    latent_channels = ucfg["in_channels"]
    b = 2
    unet_onnx = export(
        unet,
        (
            torch.randn(b, ucfg["in_channels"], latent, latent),
            torch.tensor([999, 1], dtype=torch.int64),
            torch.randn(b, MAX_LENGTH, ucfg["cross_attention_dim"]),
        ),
        f"{out}/unet/model.onnx",
        ["sample", "timestep", "encoder_hidden_states"],
        ["out_sample"],
        {
            "sample": {0: "batch_size", 2: "height", 3: "width"},
            "timestep": {0: "batch_size"},
            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
            "out_sample": {0: "batch_size", 2: "height", 3: "width"},
        },
    )
    ids = torch.tensor([tokenizer.encode("a star icon"), tokenizer.encode("")], dtype=torch.int32)
    export(
        text_encoder,
        (ids,),
        f"{out}/text_encoder/model.onnx",
        ["input_ids"],
        ["last_hidden_state", "pooler_output"],
        {"input_ids": {0: "batch_size", 1: "sequence_length"}, "last_hidden_state": {0: "batch_size", 1: "sequence_length"}, "pooler_output": {0: "batch_size"}},
    )
    export(
        decoder,
        (torch.randn(b, latent_channels, latent, latent),),
        f"{out}/vae_decoder/model.onnx",
        ["latent_sample"],
        ["sample"],
        {"latent_sample": {0: "batch_size", 2: "height", 3: "width"}, "sample": {0: "batch_size", 2: "height", 3: "width"}},
    )
    export(
        VaeMeanEncoder(encoder),
        (torch.randn(b, 3, IMAGE_SIZE, IMAGE_SIZE),),
        f"{out}/vae_encoder/model.onnx",
        ["sample"],
        ["latent_sample"],
        {"sample": {0: "batch_size", 2: "height", 3: "width"}, "latent_sample": {0: "batch_size", 2: "height", 3: "width"}},
    )

    return unet_onnx


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ckpt", default="training/runs/unet/ckpt.pt")
    p.add_argument("--out", default="packages/daemon/models/default")
    p.add_argument("--vae", help="the VAE checkpoint (default: the one the U-Net was trained on)")
    p.add_argument("--raw", action="store_true", help="export the raw weights instead of the EMA")
    args = p.parse_args()

    ck = shards.load(args.ckpt)
    out = args.out
    # A previous export's files must not survive next to this one's.
    for part in PARTS:
        shutil.rmtree(os.path.join(out, part), ignore_errors=True)
    if not os.path.exists(os.path.join(out, "LICENSES")):
        shutil.copytree(LICENSES, os.path.join(out, "LICENSES"))
    unet, text_encoder = load_trained(ck, args.raw)
    tokenizer = ClipTokenizer(ck["merges"])
    vae = torch.load(args.vae or ck["vae_path"])
    ucfg = ck["unet_config"]
    encoder, decoder = load_vae(vae)
    unet_onnx = export_graphs(out, unet, text_encoder, encoder, decoder, tokenizer)

    tcfg = ck["text_config"]
    write_json(
        f"{out}/unet/config.json",
        {"_class_name": "UNet2DConditionModel", "_diffusers_version": DIFFUSERS_VERSION, **ucfg},
    )
    write_json(
        f"{out}/text_encoder/config.json",
        {
            "architectures": ["CLIPTextModel"],
            "model_type": "clip_text_model",
            **tcfg,
            "projection_dim": tcfg["hidden_size"],
            "initializer_factor": 1.0,
            "attention_dropout": 0.0,
            "dropout": 0.0,
            "bos_token_id": tokenizer.bos_id,
            "eos_token_id": tokenizer.eos_id,
            "pad_token_id": tokenizer.eos_id,
            "torch_dtype": "float32",
        },
    )
    vae_json = vae_config(vae, ck["scaling_factor"])
    write_json(f"{out}/vae_decoder/config.json", vae_json)
    write_json(f"{out}/vae_encoder/config.json", vae_json)
    write_json(
        f"{out}/scheduler/scheduler_config.json",
        {
            "_class_name": "DDIMScheduler",
            "_diffusers_version": DIFFUSERS_VERSION,
            "num_train_timesteps": TRAIN_STEPS,
            "beta_start": BETA_START,
            "beta_end": BETA_END,
            "beta_schedule": "scaled_linear",
            "trained_betas": None,
            "clip_sample": False,
            "set_alpha_to_one": False,
            "steps_offset": 1,
            "prediction_type": "epsilon",
            "timestep_spacing": "leading",
            "thresholding": False,
            "rescale_betas_zero_snr": False,
        },
    )
    os.makedirs(f"{out}/tokenizer", exist_ok=True)
    tokenizer.save(f"{out}/tokenizer")
    write_json(
        f"{out}/model_index.json",
        {
            "_class_name": "StableDiffusionPipeline",
            "_diffusers_version": DIFFUSERS_VERSION,
            "feature_extractor": [None, None],
            "requires_safety_checker": False,
            "safety_checker": [None, None],
            "scheduler": ["diffusers", "DDIMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
    )

    # Styleset's own file (diffusers ignores it): the StyleAligned settings this model's sets agree
    # with, the reference-image path's. With the text-to-image defaults its sets stay far less alike
    # (colour spread 0.84x plain's, against 0.42x: training/README.md). And a guidance of 4 on both
    # paths: SD's 7.5 (10 on the image path) over-saturates this small model into textured surfaces
    # that take 65-119 colours to vectorise, and names fewer icons (training/README.md, stage 7).
    write_json(f"{out}/styleset.json", {"guidance": 4, "styleAligned": {"shareGroupNorm": True, "sharedScoreShift": math.log(2)}})

    attn1 = [n.name for n in unet_onnx.graph.node if "/attn1/to_q/" in n.name]
    print(f"{len(attn1)} self-attention layers, e.g.:")
    for name in attn1:
        print("  " + name)
    total = 0
    for root, _, files in os.walk(out):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    print(f"exported step {ck['step']} ({'raw' if args.raw else 'EMA'} weights) to {out}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
