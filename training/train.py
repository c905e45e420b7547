"""Trains Styleset's embedded default model: a tiny Stable-Diffusion-1.x-shaped latent diffusion
model for 64x64 icons. CPU only, time-budgeted, resumable, seeded.

    nice -n 10 /usr/bin/python3 training/train.py --data training/data --run training/runs/default \
        --steps 4000 --time-budget-min 100

Re-running the same command resumes from <run>/ckpt.pt. See training/README.md.
"""
import os

# The Debian torch calls pthread OpenBLAS inside its own OpenMP threads; with both at 2 threads
# on 2 cores they oversubscribe and small matmuls get several times slower. One BLAS thread and
# two torch threads measured fastest here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import copy
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import CLIPTextModel, PatchEncoder, UNet2DConditionModel, count_parameters  # noqa: E402
from tokenizer import MAX_LENGTH, ClipTokenizer  # noqa: E402

# The fixed "VAE": 4x4 RGB patches (48 values) projected onto their 16 leading principal
# components, so 64x64x3 pixels <-> 16x16x16 latents. Plain space-to-depth would give 48 latent
# channels, and the U-Net's full-resolution width must exceed the latent channels to carry the
# noise it predicts: a 32-wide U-Net plateaued at eps MSE 0.45 even at t=900, and a 64+-wide one
# is 2-3x slower per step than the budget allows. 16 components keep 98.9% of the variance.
VAE_FACTOR = 4
IMAGE_SIZE = 64
LATENT_CHANNELS = 16
PCA_SAMPLE = 4000
TEXT_DIM = 128

# Sized for the budget: ~1.1 s per batch-64 step on an idle 2 cores, batch-10 forward ~35 ms.
UNET_CONFIG = {
    "sample_size": IMAGE_SIZE // VAE_FACTOR,
    "in_channels": LATENT_CHANNELS,
    "out_channels": LATENT_CHANNELS,
    "block_out_channels": [32, 64, 64],
    "layers_per_block": 1,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    # diffusers legacy naming: this is the number of heads (head dim = channels / heads).
    "attention_head_dim": 2,
    "cross_attention_dim": TEXT_DIM,
    "norm_num_groups": 8,
    "norm_eps": 1e-5,
    "act_fn": "silu",
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "downsample_padding": 1,
    "center_input_sample": False,
    "use_linear_projection": False,
}

TEXT_CONFIG = {
    "hidden_size": TEXT_DIM,
    "intermediate_size": 4 * TEXT_DIM,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "max_position_embeddings": MAX_LENGTH,
    "hidden_act": "quick_gelu",
    "layer_norm_eps": 1e-5,
}

# Stable Diffusion's training schedule, so the daemon's DDIM and inversion apply unchanged.
BETA_START, BETA_END, TRAIN_STEPS = 0.00085, 0.012, 1000
CFG_DROP = 0.1
MIN_SNR_GAMMA = 5.0
EMA_DECAY = 0.999
WARMUP_STEPS = 200


def alphas_cumprod():
    betas = torch.linspace(BETA_START**0.5, BETA_END**0.5, TRAIN_STEPS, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, 0).float()


def to_pixels(images_u8):
    """uint8 NHWC -> float NCHW in [-1, 1], the VAE's input convention."""
    return images_u8.permute(0, 3, 1, 2).float() / 127.5 - 1


def fit_patch_pca(images_u8):
    """Leading principal components [48, k] and mean [48] of the training set's 4x4 patches."""
    patches = F.pixel_unshuffle(to_pixels(images_u8), VAE_FACTOR).permute(0, 2, 3, 1)
    patches = patches.reshape(-1, patches.shape[-1]).double()
    mean = patches.mean(0)
    cov = (patches - mean).T @ (patches - mean) / len(patches)
    _, vectors = torch.linalg.eigh(cov)
    components = vectors.flip(1)[:, :LATENT_CHANNELS]
    # eigh's signs are arbitrary: fix them so the map is a pure function of the data.
    signs = torch.sign(components[components.abs().argmax(0), torch.arange(LATENT_CHANNELS)])
    return (components * signs).float(), mean.float()


def lr_at(step, total, base):
    if step < WARMUP_STEPS:
        return base * (step + 1) / WARMUP_STEPS
    progress = min((step - WARMUP_STEPS) / max(total - WARMUP_STEPS, 1), 1.0)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def load_data(folder, tokenizer):
    images = torch.from_numpy(np.load(os.path.join(folder, "images.npy")))
    with open(os.path.join(folder, "captions.json")) as f:
        captions = json.load(f)
    ids = torch.tensor([[tokenizer.encode(c) for c in caps] for caps in captions], dtype=torch.int32)
    return images, ids


def build_models(tokenizer_vocab_size):
    text_config = {**TEXT_CONFIG, "vocab_size": tokenizer_vocab_size}
    return UNet2DConditionModel(UNET_CONFIG), CLIPTextModel(text_config)


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never corrupts the last good checkpoint


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="training/data")
    p.add_argument("--run", default="training/runs/default")
    p.add_argument("--steps", type=int, default=4000, help="planned steps; the LR schedule spans them")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget-min", type=float, default=100, help="stop (with a checkpoint) after this long")
    p.add_argument("--ckpt-every-min", type=float, default=10)
    p.add_argument("--log-every", type=int, default=25)
    args = p.parse_args()

    torch.set_num_threads(2)
    os.makedirs(args.run, exist_ok=True)
    ckpt_path = os.path.join(args.run, "ckpt.pt")
    started = time.time()

    with open(os.path.join(args.data, "vocabulary.json")) as f:
        words = json.load(f)
    tokenizer = ClipTokenizer.from_words(words)
    for w in words:  # every caption word must be a single token, or the vocabulary is wrong
        assert len(tokenizer.tokenize(w)) == 1, w
    images, caption_ids = load_data(args.data, tokenizer)
    empty_ids = torch.tensor(tokenizer.encode(""), dtype=torch.int32)
    n = images.shape[0]

    torch.manual_seed(args.seed)
    unet, text_encoder = build_models(tokenizer.vocab_size)
    params = list(unet.parameters()) + list(text_encoder.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        assert ck["merges"] == tokenizer.merges, "vocabulary changed since the checkpoint"
        unet.load_state_dict(ck["unet"])
        text_encoder.load_state_dict(ck["text_encoder"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        scaling_factor = ck["scaling_factor"]
        components, mean = ck["vae"]["components"], ck["vae"]["mean"]
        ema = {"unet": ck["ema_unet"], "text_encoder": ck["ema_text_encoder"]}
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    else:
        sample = images[torch.randperm(n, generator=torch.Generator().manual_seed(args.seed))[:PCA_SAMPLE]]
        components, mean = fit_patch_pca(sample)
        # Unit-variance latents, as SD's 0.18215 does for its VAE.
        with torch.no_grad():
            scaling_factor = float(1.0 / PatchEncoder(VAE_FACTOR, components, mean)(to_pixels(sample)).std())
        ema = {"unet": copy.deepcopy(unet.state_dict()), "text_encoder": copy.deepcopy(text_encoder.state_dict())}
    vae = PatchEncoder(VAE_FACTOR, components, mean).requires_grad_(False)
    print(
        f"data {n} icons, vocab {tokenizer.vocab_size}, scaling_factor {scaling_factor:.4f}; "
        f"unet {count_parameters(unet) / 1e6:.2f}M params, text encoder {count_parameters(text_encoder) / 1e6:.2f}M",
        flush=True,
    )

    def checkpoint():
        save_checkpoint(
            ckpt_path,
            {
                "step": step,
                "unet": unet.state_dict(),
                "text_encoder": text_encoder.state_dict(),
                "ema_unet": ema["unet"],
                "ema_text_encoder": ema["text_encoder"],
                "opt": opt.state_dict(),
                "scaling_factor": scaling_factor,
                "merges": tokenizer.merges,
                "unet_config": UNET_CONFIG,
                "text_config": {**TEXT_CONFIG, "vocab_size": tokenizer.vocab_size},
                "vae_factor": VAE_FACTOR,
                "vae": {"components": components, "mean": mean},
                "args": vars(args),
            },
        )

    acp = alphas_cumprod()
    live = {"unet": unet.state_dict(), "text_encoder": text_encoder.state_dict()}
    deadline = started + args.time_budget_min * 60
    last_ckpt = time.time()
    window_loss, window_start, window_steps = 0.0, time.time(), 0
    unet.train()
    text_encoder.train()
    while step < args.steps:
        # Everything random in a step comes from (seed, step): a resumed run draws what the
        # uninterrupted one would have.
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        idx = torch.randint(0, n, (args.batch,), generator=g)
        which = torch.randint(0, caption_ids.shape[1], (args.batch,), generator=g)
        ids = caption_ids[idx, which]
        drop = torch.rand(args.batch, generator=g) < CFG_DROP
        ids = torch.where(drop[:, None], empty_ids[None], ids)
        t = torch.randint(0, TRAIN_STEPS, (args.batch,), generator=g)
        with torch.no_grad():
            latents = vae(to_pixels(images[idx])) * scaling_factor
        noise = torch.randn(latents.shape, generator=g)
        a = acp[t][:, None, None, None]
        noisy = a.sqrt() * latents + (1 - a).sqrt() * noise

        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr)
        context, _ = text_encoder(ids)
        pred = unet(noisy, t, context)
        # Min-SNR weighting (Hang et al. 2023): converges several times faster than plain MSE.
        snr = acp[t] / (1 - acp[t])
        weight = snr.clamp(max=MIN_SNR_GAMMA) / snr
        loss = (((pred - noise) ** 2).mean(dim=(1, 2, 3)) * weight).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1

        decay = min(EMA_DECAY, (1 + step) / (10 + step))
        with torch.no_grad():
            for part in ("unet", "text_encoder"):
                for k, v in live[part].items():
                    if v.dtype.is_floating_point:
                        ema[part][k].mul_(decay).add_(v, alpha=1 - decay)

        window_loss += loss.item()
        window_steps += 1
        if step % args.log_every == 0 or step == args.steps:
            now = time.time()
            per_step = (now - window_start) / window_steps
            eta = per_step * (args.steps - step)
            print(
                f"step {step}/{args.steps} loss {window_loss / window_steps:.4f} lr {opt.param_groups[0]['lr']:.2e} "
                f"{per_step:.2f} s/step elapsed {(now - started) / 60:.1f} min eta {eta / 60:.1f} min "
                f"(budget ends in {(deadline - now) / 60:.1f} min)",
                flush=True,
            )
            window_loss, window_start, window_steps = 0.0, now, 0
        if time.time() - last_ckpt > args.ckpt_every_min * 60:
            checkpoint()
            last_ckpt = time.time()
        if time.time() > deadline:
            print(f"time budget reached at step {step}", flush=True)
            break
    checkpoint()
    print(f"saved {ckpt_path} at step {step}; done in {(time.time() - started) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
