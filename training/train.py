"""Trains Styleset's embedded default model: a small Stable-Diffusion-1.x-shaped latent diffusion
model for 128x128 UI icons, on the latents of the autoencoder train_vae.py made. CPU only,
time-budgeted, resumable, seeded.

    nohup nice -n 19 /usr/bin/python3 training/train.py --vae training/runs/vae/ckpt.pt \
        --run training/runs/unet --steps 12000 --time-budget-min 360 > training/runs/unet.log 2>&1 &

Re-running the same command resumes from <run>/ckpt.pt. See training/README.md.

Data: --samples styled glyphs (style.py, seeds data_seed * 10^9 + i), each with 3 captions,
encoded once with the frozen VAE encoder (posterior mean) into training/data/latents-*/ in chunks
(an interrupted preparation resumes at the next missing chunk). The set is a pure function of
(data seed, samples, VAE checkpoint). Encoding once and reusing each latent a few times costs
far less than encoding every step's batch, which on this CPU would cost more than the U-Net step.
"""
import os

# The Debian torch runs pthread OpenBLAS inside its own OpenMP threads; oversubscribed, small
# matmuls get several times slower. One BLAS thread and the torch threads measured fastest.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import copy
import hashlib
import json
import math
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from progress import add_run_options, start_run  # noqa: E402
from model import CLIPTextModel, UNet2DConditionModel, count_parameters, load_vae, set_shared_reference  # noqa: E402
from tokenizer import MAX_LENGTH, ClipTokenizer  # noqa: E402

IMAGE_SIZE = style.SIZE
VAE_FACTOR = 8
TEXT_DIM = 128
CAPTIONS_PER_SAMPLE = 3
CHUNK = 512


def unet_config(latent_channels, widths=(32, 64, 128)):
    # Sized for the product's latency and this CPU's training budget (training/README.md):
    # ~156 MMAC per image at the default widths, so the main job's batch-10 call stays near the
    # old model's. Self-attention (attn1) at 16x16 (the finest latent resolution), 8x8 and 4x4.
    return {
        "sample_size": IMAGE_SIZE // VAE_FACTOR,
        "in_channels": latent_channels,
        "out_channels": latent_channels,
        "block_out_channels": list(widths),
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


def lr_at(step, total, base):
    if step < WARMUP_STEPS:
        return base * (step + 1) / WARMUP_STEPS
    progress = min((step - WARMUP_STEPS) / max(total - WARMUP_STEPS, 1), 1.0)
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def timesteps(count, high_fraction, g):
    """Uniform timesteps, a fraction of them drawn from the noisier half instead: there the loss
    is smallest in epsilon, yet the shape (what the name decides) is made there."""
    t = torch.randint(0, TRAIN_STEPS, (count,), generator=g)
    if high_fraction:
        high = torch.rand(count, generator=g) < high_fraction
        t = torch.where(high, torch.randint(TRAIN_STEPS // 2, TRAIN_STEPS, (count,), generator=g), t)
    return t


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: an interrupted save never corrupts the last good checkpoint


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def load_vae_encoder(path):
    ck = torch.load(path)
    return load_vae(ck)[0].requires_grad_(False), ck


def focus_name_indices(entries, listed):
    """Vocabulary indices of --focus-names' comma-separated names; an unknown name is an error that lists the vocabulary."""
    if not listed:
        return []
    index = {e["name"]: i for i, e in enumerate(entries)}
    wanted = [w.strip() for w in listed.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in index]
    if unknown:
        raise SystemExit(f"--focus-names: not in the vocabulary: {', '.join(unknown)} (it has: {', '.join(index)})")
    return [index[w] for w in wanted]


def load_data(data):
    """make_data.py's glyph bank and the vocabulary's entries."""
    with open(os.path.join(data, "vocabulary.json")) as f:
        entries = json.load(f)["entries"]
    return style.GlyphBank(np.load(os.path.join(data, "glyphs.npz"))), entries


def caption_tokenizer(entries):
    words = style.caption_vocabulary(entries)
    tokenizer = ClipTokenizer.from_words(words)
    for w in words:  # every caption word must be a single token, or the vocabulary is wrong
        assert len(tokenizer.tokenize(w)) == 1, w
    return tokenizer


def group_seed(data_seed, step, groups, k):
    """The seed of step `step`'s k-th StyleAligned set: apart from the singles' seeds."""
    return data_seed * 10**9 + 500_000_000 + step * groups + k


def set_references(batch, single, groups, group_size):
    """Each item's StyleAligned reference: itself for the `single` first items, then its set's
    first item for the `groups` sets of `group_size` after them."""
    ref = torch.arange(batch)
    ref[single:] = single + torch.arange(groups).repeat_interleave(group_size) * group_size
    return ref


@torch.no_grad()
def prepare_latents(bank, entries, data, vae_path, samples, data_seed):
    """Latents (float16 [N, C, 16, 16]), captions [N][3] and name indices [N], cached by chunk."""
    encoder, _ = load_vae_encoder(vae_path)
    folder = os.path.join(data, f"latents-seed{data_seed}-vae{file_digest(vae_path)}")
    os.makedirs(folder, exist_ok=True)
    started = time.time()
    parts = []
    for c, first in enumerate(range(0, samples, CHUNK)):
        path = os.path.join(folder, f"chunk-{c:04d}.pt")
        if not os.path.exists(path):
            drawn = [style.sample(bank, entries, data_seed * 10**9 + i, captions=CAPTIONS_PER_SAMPLE) for i in range(first, min(first + CHUNK, samples))]
            images = torch.stack([d["image"] for d in drawn]) * 2 - 1
            latents = torch.cat([encoder(images[i : i + 64])[0] for i in range(0, len(images), 64)])
            save_checkpoint(path, {"latents": latents.half(), "captions": [d["captions"] for d in drawn], "names": [d["name"] for d in drawn]})
            done = first + len(drawn)
            rate = (time.time() - started) / done
            print(f"encoded {done}/{samples} samples, {rate * 1000:.0f} ms each, eta {rate * (samples - done) / 60:.1f} min", flush=True)
        parts.append(torch.load(path))
    latents = torch.cat([p["latents"] for p in parts])
    captions = [c for p in parts for c in p["captions"]]
    names = [n for p in parts for n in p["names"]]
    return latents, captions, names


def step_losses(unet, text_encoder, name_head, ids, noisy, t, noise, acp, ref, item_names, drop, name_weight):
    """The batch's diffusion loss and the text encoder's auxiliary name loss (zero without a
    weight). `ref` shares every self-attention layer with each item's reference (None: no sets)."""
    context, _ = text_encoder(ids)
    set_shared_reference(unet, ref)
    pred = unet(noisy, t, context)
    set_shared_reference(unet, None)
    # Min-SNR weighting (Hang et al. 2023): converges several times faster than plain MSE.
    snr = acp[t] / (1 - acp[t])
    weight = snr.clamp(max=MIN_SNR_GAMMA) / snr
    loss = (((pred.float() - noise) ** 2).mean(dim=(1, 2, 3)) * weight).mean()
    name_loss = torch.zeros((), device=noisy.device)
    if name_weight:
        positions = torch.arange(ids.shape[1], device=ids.device)[None] >= ids.float().argmax(-1)[:, None]
        keep = positions & ~drop[:, None]
        logits = name_head(context).float()
        per = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), item_names.repeat_interleave(ids.shape[1]), reduction="none")
        name_loss = (per * keep.reshape(-1)).sum() / keep.sum().clamp(min=1)
    return loss, name_loss


def optimise(opt, total, unet, text_params):
    opt.zero_grad(set_to_none=True)
    total.backward()
    # Clipped apart: the name loss's gradients must not shrink the U-Net's steps.
    torch.nn.utils.clip_grad_norm_(list(unet.parameters()), 1.0)
    torch.nn.utils.clip_grad_norm_(text_params, 1.0)
    opt.step()


@torch.no_grad()
def update_ema(ema, live, step, decay_max=EMA_DECAY):
    decay = min(decay_max, (1 + step) / (10 + step))
    for part in ("unet", "text_encoder"):
        keys = [k for k, v in live[part].items() if v.dtype.is_floating_point]
        # One kernel for all tensors on a GPU; the same arithmetic as a loop of mul_ and add_.
        torch._foreach_mul_([ema[part][k] for k in keys], decay)
        torch._foreach_add_([ema[part][k] for k in keys], [live[part][k] for k in keys], alpha=1 - decay)


def checkpoint_state(step, unet, text_encoder, name_head, ema, scaling_factor, tokenizer, args, opt=None):
    """A checkpoint as export.py and --init read it; with `opt`, also what resuming needs (the raw
    weights and the optimiser)."""
    state = {
        "step": step,
        "ema_unet": ema["unet"],
        "ema_text_encoder": ema["text_encoder"],
        "name_head": name_head.state_dict(),
        "scaling_factor": scaling_factor,
        "merges": tokenizer.merges,
        "unet_config": unet.config,
        "text_config": {**TEXT_CONFIG, "vocab_size": tokenizer.vocab_size},
        "vae_path": args.vae,
        "vae_digest": file_digest(args.vae),
        "args": vars(args),
    }
    if opt is not None:
        state.update(unet=unet.state_dict(), text_encoder=text_encoder.state_dict(), opt=opt.state_dict())
    return state


def build_models(latent_channels, vocab_size, text_time=False, widths=(32, 64, 128)):
    config = {**unet_config(latent_channels, widths), **({"text_time_embedding": True} if text_time else {})}
    return UNet2DConditionModel(config), CLIPTextModel({**TEXT_CONFIG, "vocab_size": vocab_size})


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="training/data")
    p.add_argument("--vae", default="training/runs/vae/ckpt.pt")
    p.add_argument("--run", default="training/runs/unet")
    p.add_argument("--samples", type=int, default=30_000, help="styled glyphs encoded once and reused")
    p.add_argument("--data-seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=12000, help="planned steps; the LR schedule spans them")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    add_run_options(p, time_budget_min=360)
    p.add_argument("--stop-at", type=int, help="stop (with a checkpoint) at this step, on the --steps schedule: ends one part of a run that resumes with another plan, as a recipe names it")
    p.add_argument("--init", help="start a new run from this checkpoint's weights (and EMA), with a fresh optimiser and schedule")
    p.add_argument("--groups", type=int, default=0, help="per step, this many StyleAligned sets drawn fresh (one style, different names) and trained with shared attention")
    p.add_argument("--group-size", type=int, default=4)
    p.add_argument("--name-loss", type=float, default=0.0, help="weight of the text encoder's auxiliary name classification (every position from EOS on)")
    p.add_argument("--names", type=int, help="a curriculum: train on the vocabulary's first N names only (its everyday set is the first 32)")
    p.add_argument("--focus", type=int, help="draw --focus-share of each batch's single samples from the vocabulary's first N names (the everyday set is the first 32), the rest from the curriculum")
    p.add_argument("--focus-names", help="comma-separated vocabulary names whose samples join --focus's (or are them, without it): names a model draws poorly")
    p.add_argument("--focus-share", type=float, default=0.5)
    p.add_argument("--high-t", type=float, default=0.0, help="this fraction of each batch's timesteps drawn from [500, 1000), where the name decides the shape")
    p.add_argument("--text-time", action="store_true", help="experimental: the pooled text added to the U-Net's time embedding (model.py)")
    args = p.parse_args()

    ckpt_path, progress = start_run(args)

    bank, entries = load_data(args.data)
    latents, captions, names = prepare_latents(bank, entries, args.data, args.vae, args.samples, args.data_seed)
    tokenizer = caption_tokenizer(entries)
    caption_ids = torch.tensor([[tokenizer.encode(c) for c in caps] for caps in captions], dtype=torch.int32)
    empty_ids = torch.tensor(tokenizer.encode(""), dtype=torch.int32)
    n, latent_channels = latents.shape[0], latents.shape[1]

    torch.manual_seed(args.seed)
    unet, text_encoder = build_models(latent_channels, tokenizer.vocab_size, args.text_time)
    # Training only, never exported: makes every text position from EOS on name the icon, so the
    # U-Net's cross-attention finds the name wherever it looks (a 1-of-32 token did not reach it).
    name_head = torch.nn.Linear(TEXT_DIM, len(entries))
    text_params = list(text_encoder.parameters()) + list(name_head.parameters())
    params = list(unet.parameters()) + text_params
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    step = 0
    if args.init and not os.path.exists(ckpt_path):
        ck = torch.load(args.init)
        assert ck["merges"] == tokenizer.merges, "vocabulary changed since the --init checkpoint"
        assert ck["vae_digest"] == file_digest(args.vae), "the VAE changed since the --init checkpoint"
        # New layers (--text-time) start as built (zero), in the weights and in the EMA.
        missing, unexpected = unet.load_state_dict(ck["unet"], strict=False)
        assert not unexpected and all(k.startswith("text_time.") for k in missing), (missing, unexpected)
        text_encoder.load_state_dict(ck["text_encoder"])
        if "name_head" in ck:
            name_head.load_state_dict(ck["name_head"])
        scaling_factor = ck["scaling_factor"]
        fresh = {k: v.clone() for k, v in unet.state_dict().items() if k in missing}
        ema = {"unet": {**ck["ema_unet"], **fresh}, "text_encoder": ck["ema_text_encoder"]}
        print(f"initialised from {args.init} (its step {ck['step']}){'; new: ' + ', '.join(missing) if missing else ''}", flush=True)
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        assert ck["merges"] == tokenizer.merges, "vocabulary changed since the checkpoint"
        assert ck["vae_digest"] == file_digest(args.vae), "the VAE changed since the checkpoint"
        unet.load_state_dict(ck["unet"])
        text_encoder.load_state_dict(ck["text_encoder"])
        opt.load_state_dict(ck["opt"])
        if "name_head" in ck:
            name_head.load_state_dict(ck["name_head"])
        step = ck["step"]
        scaling_factor = ck["scaling_factor"]
        ema = {"unet": ck["ema_unet"], "text_encoder": ck["ema_text_encoder"]}
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    elif not args.init:
        # Unit-variance latents, as SD's 0.18215 does for its VAE.
        scaling_factor = float(1.0 / latents[: min(n, 20000)].float().std())
        ema = {"unet": copy.deepcopy(unet.state_dict()), "text_encoder": copy.deepcopy(text_encoder.state_dict())}
    print(
        f"data {n} latents {tuple(latents.shape[1:])}, {len(entries)} names, vocab {tokenizer.vocab_size}, scaling_factor {scaling_factor:.4f}; "
        f"unet {count_parameters(unet) / 1e6:.2f}M params, text encoder {count_parameters(text_encoder) / 1e6:.2f}M",
        flush=True,
    )

    def checkpoint():
        save_checkpoint(ckpt_path, checkpoint_state(step, unet, text_encoder, name_head, ema, scaling_factor, tokenizer, args, opt))

    acp = alphas_cumprod()
    if args.groups:
        encoder, _ = load_vae_encoder(args.vae)
    names_t = torch.tensor(names)
    # The encoded samples a step may draw (all, or those of the curriculum's names).
    pool = torch.nonzero(names_t < args.names).flatten() if args.names else torch.arange(n)
    if args.names:
        print(f"curriculum: the first {args.names} names, {len(pool)} of {n} encoded samples", flush=True)
    single = args.batch - args.groups * args.group_size
    focused = round(single * args.focus_share) if args.focus or args.focus_names else 0
    if focused:
        focus_names = focus_name_indices(entries, args.focus_names)
        in_focus = (names_t < (args.focus or 0)) | torch.isin(names_t, torch.tensor(focus_names, dtype=names_t.dtype))
        focus_pool = torch.nonzero(in_focus).flatten()
        if args.names:
            focus_pool = focus_pool[names_t[focus_pool] < args.names]
        if len(focus_pool) == 0:
            raise SystemExit("--focus/--focus-names: no encoded sample has those names (within --names)")
        print(f"focus: {focused} of each batch's single samples from the first {args.focus or 0} names and {len(focus_names)} named ({len(focus_pool)} samples)", flush=True)
    live = {"unet": unet.state_dict(), "text_encoder": text_encoder.state_dict()}
    unet.train()
    text_encoder.train()
    end = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < end:
        # Everything random in a step comes from (seed, step): a resumed run draws what the
        # uninterrupted one would have.
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        idx = pool[torch.randint(0, len(pool), (single - focused,), generator=g)]
        if focused:
            idx = torch.cat([focus_pool[torch.randint(0, len(focus_pool), (focused,), generator=g)], idx])
        which = torch.randint(0, CAPTIONS_PER_SAMPLE, (single,), generator=g)
        ids = caption_ids[idx, which]
        clean = latents[idx].float() * scaling_factor
        item_names = names_t[idx]
        t = timesteps(single, args.high_t, g)
        ref = set_references(args.batch, single, args.groups, args.group_size)
        if args.groups:
            # Fresh sets every step (seeds apart from the encoded singles'): each set's first item is
            # its reference, generated as without sharing; the others share attention with it, at
            # its timestep, as the daemon runs a set.
            drawn = []
            for k in range(args.groups):
                drawn += style.sample_group(bank, entries, group_seed(args.data_seed, step, args.groups, k), args.group_size, first_names=args.names)
            with torch.no_grad():
                group_latents = encoder(torch.stack([d["image"] for d in drawn]) * 2 - 1)[0]
            clean = torch.cat([clean, group_latents * scaling_factor])
            ids = torch.cat([ids, torch.tensor([tokenizer.encode(d["captions"][0]) for d in drawn], dtype=torch.int32)])
            item_names = torch.cat([item_names, torch.tensor([d["name"] for d in drawn])])
            group_t = timesteps(args.groups, args.high_t, g)
            t = torch.cat([t, group_t.repeat_interleave(args.group_size)])
        drop = torch.rand(args.batch, generator=g) < CFG_DROP
        ids = torch.where(drop[:, None], empty_ids[None], ids)
        noise = torch.randn(clean.shape, generator=g)
        a = acp[t][:, None, None, None]
        noisy = a.sqrt() * clean + (1 - a).sqrt() * noise

        for group in opt.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr)
        loss, name_loss = step_losses(unet, text_encoder, name_head, ids, noisy, t, noise, acp, ref if args.groups else None, item_names, drop, args.name_loss)
        optimise(opt, loss + args.name_loss * name_loss, unet, text_params)
        step += 1
        update_ema(ema, live, step)

        progress.record(step, opt.param_groups[0]["lr"], loss=loss.item(), name=name_loss.item())
        if progress.after_step(step, checkpoint):
            break
    progress.finish(ckpt_path, step, checkpoint)


if __name__ == "__main__":
    main()
