"""Stage 5: fine-tunes the autoencoder's decoder on the latents the U-Net actually makes, so that it
draws them flat.

    nice -n 19 /usr/bin/python3 training/train_decoder.py --vae training/runs/vae/ckpt.pt \
        --unet training/runs/unet-v5/ckpt-1490.pt --run training/runs/decoder --steps 600 \
        > training/runs/decoder.log 2>&1

Why: the VAE decoder was trained on its encoder's latents only. A sampled latent is near that
manifold but not on it (a small U-Net's errors accumulate over the steps, classifier-free guidance
pushes further), and the decoder renders the difference as texture: mottled fills, rippled
backgrounds, coloured fringes. Those are what a designer sees first, and they are what makes the
vector output need many colours and paths.

How: each step draws StyleAligned sets of styled glyphs (style.sample_group, the curriculum's
names), encodes them (the frozen encoder), noises them to a random timestep of the sampler's
schedule, and lets the frozen U-Net finish the sampling from there exactly as the daemon does
(DDIM, classifier-free guidance, shared attention with the set's first image). The decoder
learns to turn those finished latents into the clean image they started from (L1 and image
gradients, as train_vae.py). A share of each batch starts at t = 0 (the encoder's latents as they
are), so what the decoder drew well before it keeps drawing. The encoder, U-Net and text encoder
do not change: latents mean what they meant, and the export writes the new decoder with the old
encoder (export.py --vae <run>/ckpt.pt: the checkpoint has the VAE checkpoint's layout).

Resumable and seeded as train_vae.py (everything random in step k from (seed, k)). Validation
(every --eval-every steps and at the end): PSNR of clean latents decoded (must not fall) and of
sampled ones (the point), on sets of seeds no training step draws.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from progress import add_run_options, start_run  # noqa: E402
from model import count_parameters, load_trained, load_vae, set_shared_reference  # noqa: E402
from tokenizer import ClipTokenizer  # noqa: E402
from train import CFG_DROP, TRAIN_STEPS, alphas_cumprod  # noqa: E402
from train_vae import load_bank, psnr, reconstruction_loss, save_checkpoint  # noqa: E402

# The daemon's sampler (DDIM, leading spacing, steps_offset 1) on a 25-step schedule: the daemon
# runs 50 by default, but a sample's end state is alike and each training sample costs half.
SAMPLER_STEPS = 25
STRIDE = TRAIN_STEPS // SAMPLER_STEPS
VALIDATION_SEED = 10**9 + 7_000_000  # apart from every training seed and train_vae's validation


def sampler_timesteps():
    return [k * STRIDE + 1 for k in range(SAMPLER_STEPS)]


@torch.no_grad()
def finish_sampling(unet, context, uncond, clean, remaining, guidance, ref, g):
    """Noises `clean` (scaled latents) to the sampler timestep `remaining` steps before the end and
    runs those DDIM steps with guidance and shared attention, as the daemon's last steps run."""
    if remaining == 0:
        return clean
    acp = alphas_cumprod()
    ts = sampler_timesteps()[:remaining]
    a = acp[ts[-1]]
    z = a.sqrt() * clean + (1 - a).sqrt() * torch.randn(clean.shape, generator=g)
    n = clean.shape[0]
    set_shared_reference(unet, torch.cat([ref, ref + n]))
    try:
        for t in reversed(ts):
            eps_u, eps_c = unet(torch.cat([z, z]), torch.full((2 * n,), t), torch.cat([uncond, context])).chunk(2)
            eps = eps_u + guidance * (eps_c - eps_u)
            a, a_prev = acp[t], acp[t - STRIDE] if t - STRIDE >= 0 else acp[0]
            x0 = (z - (1 - a).sqrt() * eps) / a.sqrt()
            z = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    finally:
        set_shared_reference(unet, None)
    return z


def draw_sets(bank, entries, seed, groups, size, names):
    drawn = []
    for k in range(groups):
        drawn += style.sample_group(bank, entries, seed * 1000 + k, size, first_names=names)
    return torch.stack([d["image"] for d in drawn]) * 2 - 1, [d["captions"][0] for d in drawn]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="training/data")
    p.add_argument("--vae", default="training/runs/vae/ckpt.pt", help="the autoencoder the U-Net was trained on")
    p.add_argument("--unet", default="training/runs/unet-v5/ckpt.pt", help="the U-Net checkpoint whose samples the decoder learns to draw (its EMA weights)")
    p.add_argument("--run", default="training/runs/decoder")
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--groups", type=int, default=4, help="StyleAligned sets per step")
    p.add_argument("--group-size", type=int, default=4)
    p.add_argument("--names", type=int, default=32, help="the vocabulary's first N names (the U-Net's curriculum)")
    p.add_argument("--clean", type=float, default=0.25, help="share of the sets decoded from the encoder's latents as they are")
    p.add_argument("--max-remaining", type=int, default=12, help="at most this many of the sampler's last steps run (12 of 25: t <= 441)")
    p.add_argument("--lr", type=float, default=2e-4)
    add_run_options(p, time_budget_min=120)
    p.add_argument("--eval-every", type=int, default=200)
    args = p.parse_args()

    ckpt_path, progress = start_run(args)
    bank, entries = load_bank(args.data)

    vae = torch.load(args.vae)
    encoder, decoder = load_vae(vae)
    encoder.requires_grad_(False)
    uck = torch.load(args.unet)
    unet, text = (m.requires_grad_(False) for m in load_trained(uck))
    tokenizer = ClipTokenizer(uck["merges"])
    scaling = uck["scaling_factor"]
    empty = torch.tensor([tokenizer.encode("")], dtype=torch.int32)
    with torch.no_grad():
        uncond = text(empty)[0]  # the unconditional context: one for every image and step

    opt = torch.optim.Adam(decoder.parameters(), lr=args.lr)
    step, history = 0, []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        decoder.load_state_dict(ck["decoder"])
        opt.load_state_dict(ck["opt"])
        step, history = ck["step"], ck["history"]
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    print(f"decoder {count_parameters(decoder) / 1e6:.2f}M params; U-Net step {uck['step']} ({args.unet}); scaling {scaling:.4f}", flush=True)

    def context(captions, g):
        ids = torch.tensor([tokenizer.encode(c) for c in captions], dtype=torch.int32)
        drop = torch.rand(len(captions), generator=g) < CFG_DROP
        ids = torch.where(drop[:, None], empty, ids)
        with torch.no_grad():
            return text(ids)[0]

    def sampled_inputs(images, captions, g, remaining, guidance):
        with torch.no_grad():
            clean = encoder(images)[0] * scaling
        conditional = context(captions, g)
        size = args.group_size
        ref = torch.arange(len(captions)) // size * size
        return finish_sampling(unet, conditional, uncond.expand(len(captions), -1, -1), clean, remaining, guidance, ref, g) / scaling

    # Validation: fixed sets, each at a fixed depth and guidance, so every evaluation sees the same inputs.
    vg = torch.Generator().manual_seed(VALIDATION_SEED)
    val_images, val_captions = draw_sets(bank, entries, VALIDATION_SEED, 8, args.group_size, args.names)
    val_clean = sampled_inputs(val_images, val_captions, vg, 0, 7.5)
    val_sampled = torch.cat(
        [sampled_inputs(val_images[i : i + 8], val_captions[i : i + 8], vg, args.max_remaining, 7.5) for i in range(0, len(val_captions), 8)]
    )

    def decoded_psnr(latents, images):
        with torch.no_grad():
            return psnr(decoder(latents).clamp(-1, 1), images)

    def evaluate():
        decoder.eval()
        m = {"step": step, "psnr_clean": decoded_psnr(val_clean, val_images), "psnr_sampled": decoded_psnr(val_sampled, val_images)}
        decoder.train()
        history.append(m)
        print(f"  validation psnr clean {m['psnr_clean']:.2f} dB, sampled (last {args.max_remaining} steps) {m['psnr_sampled']:.2f} dB", flush=True)

    def checkpoint():
        # The VAE checkpoint's layout (export.py --vae), plus this run's own state.
        save_checkpoint(
            ckpt_path,
            {**{k: vae[k] for k in ("channels", "latent_channels")}, "encoder": encoder.state_dict(), "decoder": decoder.state_dict(),
             "opt": opt.state_dict(), "step": step, "history": history, "args": vars(args), "base_vae": args.vae, "unet_step": uck["step"]},
        )

    if not history:
        evaluate()
    decoder.train()
    while step < args.steps:
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        images, captions = draw_sets(bank, entries, args.seed * 10**7 + step, args.groups, args.group_size, args.names)
        # One depth and guidance per step: the sets of a batch finish together, in one U-Net batch.
        remaining = 0 if torch.rand((), generator=g) < args.clean else int(torch.randint(1, args.max_remaining + 1, (), generator=g))
        guidance = float(torch.empty(()).uniform_(3.0, 9.0, generator=g))
        latents = sampled_inputs(images, captions, g, remaining, guidance)

        through = min(step / max(args.steps, 1), 1.0)
        lr = args.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * through)))
        for group in opt.param_groups:
            group["lr"] = lr
        out = decoder(latents)
        loss = reconstruction_loss(out, images)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(decoder.parameters(), 1.0)
        opt.step()
        step += 1

        progress.record(step, lr, loss=loss.item())
        if progress.after_step(step, checkpoint, evaluate, args.eval_every):
            break
    progress.finish(ckpt_path, step, checkpoint, evaluate, evaluated=bool(history) and history[-1]["step"] == step)


if __name__ == "__main__":
    main()
