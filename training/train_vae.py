"""Trains the default model's autoencoder (factor 8, 128x128x3 <-> 16x16xC) on styled glyphs.

    nohup nice -n 19 /usr/bin/python3 training/train_vae.py --run training/runs/vae \
        --steps 3000 --time-budget-min 70 > training/runs/vae.log 2>&1 &

Re-running the same command resumes from <run>/ckpt.pt. Everything random in step k comes from
(seed, k), so a resumed run draws what an uninterrupted one would. Training images are drawn by
style.py from training/data/glyphs.npz (make_data.py) and cut into random 64x64 crops on the
8-pixel latent grid (--crop): a convolutional autoencoder does not need the whole image, and a
crop costs a quarter of it. But a pixel on the image's border is in only 1 of 9 such crops per
axis (a corner in 1 of 81), too few to learn the background around a container, so the run ends
on whole images (--crop 128, a quarter of the batch). Validation (every --eval-every steps and at the end) uses whole 128x128 images
of seeds no training step draws, and reports PSNR, the mean and worst error on glyph pixels
(strokes), and the strength of 8-pixel-periodic structure in the error (block artefacts).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import style  # noqa: E402
from progress import add_run_options, start_run  # noqa: E402
from model import VaeDecoder, VaeEncoder, count_parameters  # noqa: E402

VAE_CHANNELS = [32, 48, 64, 96]  # 128, 64, 32, 16 px; the decoder mirrors it
KL_WEIGHT = 1e-6
GRAD_WEIGHT = 1.0
WARMUP = 100
VALIDATION_SEED = 10**9  # far from every training seed


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_bank(data):
    glyphs = np.load(os.path.join(data, "glyphs.npz"))
    with open(os.path.join(data, "vocabulary.json")) as f:
        entries = json.load(f)["entries"]
    return style.GlyphBank(glyphs), entries


def draw_batch(bank, entries, seeds):
    """Styled images in [-1, 1] and their glyph-coverage masks (where the strokes are)."""
    samples = [style.sample(bank, entries, seed) for seed in seeds]
    return torch.stack([s["image"] * 2 - 1 for s in samples]), torch.stack([s["glyph"] for s in samples])


def image_gradients(x):
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


def reconstruction_loss(out, target):
    """L1 on pixels and on image gradients: the gradient term keeps edges sharp, which L1 alone
    blurs."""
    gy, gx = image_gradients(out)
    ty, tx = image_gradients(target)
    return (out - target).abs().mean() + GRAD_WEIGHT * ((gy - ty).abs().mean() + (gx - tx).abs().mean())


def psnr(out, target):
    """Mean PSNR (dB) over a batch of [-1, 1] images."""
    mse = (((out - target) / 2) ** 2).mean(dim=(1, 2, 3))
    return float((10 * torch.log10(1 / mse)).mean())


def periodic_energy(error):
    """Share of the error's energy at the 8-pixel period (and its harmonics) along each axis,
    relative to a flat spectrum: 1 means nothing special at the latent grid's period."""
    e = error.mean(1)  # [N, H, W]
    power = torch.fft.rfft(e, dim=-1).abs() ** 2 + torch.fft.rfft(e, dim=-2).abs().transpose(-1, -2)[..., : e.shape[-1] // 2 + 1] ** 2
    spectrum = power.mean(dim=(0, 1))
    n = e.shape[-1]
    bins = [k for k in range(n // 8, n // 2 + 1, n // 8)]
    return float(spectrum[bins].mean() / spectrum[1:].mean())


@torch.no_grad()
def validate(encoder, decoder, images, strokes):
    mean, _ = encoder(images)
    out = decoder(mean).clamp(-1, 1)
    err = (out - images).abs() / 2  # in [0, 1] units
    on_stroke = strokes[:, None].expand_as(err) > 0.5
    stroke_err = err[on_stroke]
    return {
        "psnr": psnr(out, images),
        "stroke_mean": float(stroke_err.mean()),
        "stroke_p99": float(stroke_err.quantile(0.99)),
        "stroke_max": float(stroke_err.max()),
        "periodic": periodic_energy(out - images),
        "latent_std": float(mean.std()),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="training/data")
    p.add_argument("--run", default="training/runs/vae")
    p.add_argument("--latent-channels", type=int, default=8)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--crop", type=int, default=64, help="side of the training crops (multiple of 8; 128: whole images)")
    p.add_argument("--lr", type=float, default=1e-3)
    add_run_options(p, time_budget_min=70)
    p.add_argument("--stop-at", type=int, help="stop (with a checkpoint) at this step, on the --steps schedule: ends one part of a run that resumes with another plan, as a recipe names it")
    p.add_argument("--eval-every", type=int, default=250)
    args = p.parse_args()

    ckpt_path, progress = start_run(args)
    bank, entries = load_bank(args.data)
    val_images, val_strokes = draw_batch(bank, entries, range(VALIDATION_SEED, VALIDATION_SEED + 64))

    torch.manual_seed(args.seed)
    encoder = VaeEncoder(VAE_CHANNELS, args.latent_channels)
    decoder = VaeDecoder(VAE_CHANNELS, args.latent_channels)
    params = list(encoder.parameters()) + list(decoder.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    step = 0
    history = []
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        assert ck["latent_channels"] == args.latent_channels, "latent channels changed since the checkpoint"
        encoder.load_state_dict(ck["encoder"])
        decoder.load_state_dict(ck["decoder"])
        opt.load_state_dict(ck["opt"])
        step, history = ck["step"], ck["history"]
        print(f"resumed from {ckpt_path} at step {step}", flush=True)
    print(
        f"encoder {count_parameters(encoder) / 1e6:.2f}M, decoder {count_parameters(decoder) / 1e6:.2f}M params; "
        f"latent channels {args.latent_channels}",
        flush=True,
    )

    def checkpoint():
        save_checkpoint(
            ckpt_path,
            {
                "step": step,
                "encoder": encoder.state_dict(),
                "decoder": decoder.state_dict(),
                "opt": opt.state_dict(),
                "channels": VAE_CHANNELS,
                "latent_channels": args.latent_channels,
                "history": history,
                "args": vars(args),
            },
        )

    def evaluate():
        m = validate(encoder.eval(), decoder.eval(), val_images, val_strokes)
        encoder.train()
        decoder.train()
        history.append({"step": step, **m})
        print("  validation " + " ".join(f"{k} {v:.4f}" for k, v in m.items()), flush=True)

    end = min(args.steps, args.stop_at) if args.stop_at else args.steps
    while step < end:
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + step)
        seeds = torch.randint(0, 2**62, (args.batch,), generator=g).tolist()
        images, _ = draw_batch(bank, entries, seeds)
        crop = args.crop
        cells = (style.SIZE - crop) // 8 + 1
        ox = torch.randint(0, cells, (args.batch,), generator=g) * 8
        oy = torch.randint(0, cells, (args.batch,), generator=g) * 8
        x = torch.stack([im[:, y : y + crop, xx : xx + crop] for im, xx, y in zip(images, ox.tolist(), oy.tolist())])
        eps = torch.randn(args.batch, args.latent_channels, crop // 8, crop // 8, generator=g)

        through = min(max(step - WARMUP, 0) / max(args.steps - WARMUP, 1), 1.0)
        lr = args.lr * min(1.0, (step + 1) / WARMUP) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * through)))
        for group in opt.param_groups:
            group["lr"] = lr
        mean, logvar = encoder(x)
        logvar = logvar.clamp(-30, 20)
        z = mean + (0.5 * logvar).exp() * eps
        out = decoder(z)
        rec = reconstruction_loss(out, x)
        kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).mean()
        loss = rec + KL_WEIGHT * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1

        progress.record(step, lr, loss=loss.item(), kl=kl.item())
        if progress.after_step(step, checkpoint, evaluate, args.eval_every):
            break
    progress.finish(ckpt_path, step, checkpoint, evaluate, evaluated=bool(history) and history[-1]["step"] == step)


if __name__ == "__main__":
    main()
