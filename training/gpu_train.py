"""Trains the embedded model's U-Net and text encoder on a GPU, within a time budget: every step
draws fresh styled glyphs (style.sample_spec / group_spec on CPU workers, style_batch.draw_batch on
the device) and encodes them with the frozen VAE encoder, instead of reusing a pre-encoded set as
train.py must on a CPU. Runs on a machine with PyTorch and no network: it needs only
training/data/{glyphs.npz,vocabulary.json} and the VAE checkpoint. training/README.md ("A GPU run")
gives the one command and what comes back.

    PYTHONUNBUFFERED=1 python3 training/gpu_train.py --out $OUT/run --minutes 7

Without --steps the run times its first steps and plans as many as the budget holds, printing the
count: `--steps N` with the same seeds repeats that plan (the data and the noise are functions of
(seed, step); GPU kernels may still differ in the last bits). Every --save-every-min, and at the
end, the EMA weights go to <out>/ckpt as a shards.py folder (files under 16 MiB), which export.py
reads. `--device cpu --batch 8 --minutes 0.5` runs the same code here, as a check.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import copy
import json
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shards  # noqa: E402
import style  # noqa: E402
import style_batch  # noqa: E402
from model import count_parameters, load_vae  # noqa: E402
from train import TEXT_DIM, CFG_DROP, alphas_cumprod, build_models, caption_tokenizer, checkpoint_state, group_seed, load_data, lr_at, optimise, set_references, step_losses, timesteps, update_ema  # noqa: E402

# Seeds of the samples the scaling factor is measured on: apart from every step's.
SCALE_SEED = 900_000_000
SCALE_SAMPLES = 4096
# Steps before the throughput is timed (CUDA start-up, allocator growth), and steps timed.
SETTLE, TIMED = 10, 30


class Batches(torch.utils.data.Dataset):
    """Step -> the CPU half of that step's batch: glyph rows, style rows, token ids, names, each
    item's StyleAligned reference, timesteps and caption drop. A pure function of (seeds, step),
    so any worker can make any step."""

    def __init__(self, args, bank, entries, tokenizer):
        self.args, self.bank, self.entries, self.tokenizer = args, bank, entries, tokenizer
        self.single = args.batch - args.groups * args.group_size
        self.focused = round(self.single * args.focus_share) if args.focus else 0
        self.curriculum = list(range(args.names or bank.count))
        self.focus = list(range(args.focus or 0))

    def __len__(self):
        return 1 << 40

    def __getitem__(self, step):
        a = self.args
        base = a.data_seed * 10**9
        specs = [style.sample_spec(self.bank, self.entries, base + step * self.single + i, names=self.focus if i < self.focused else self.curriculum) for i in range(self.single)]
        for k in range(a.groups):
            specs += style.group_spec(self.bank, self.entries, group_seed(a.data_seed, step, a.groups, k), a.group_size, first_names=a.names)
        g = torch.Generator().manual_seed(a.seed * 1_000_003 + step)
        t = timesteps(self.single, a.high_t, g)
        if a.groups:
            t = torch.cat([t, timesteps(a.groups, a.high_t, g).repeat_interleave(a.group_size)])
        return {
            "rows": torch.tensor([s["row"] for s in specs]),
            "params": torch.tensor([style_batch.style_params(s["style"]) for s in specs]),
            "ids": torch.tensor([self.tokenizer.encode(s["captions"][0]) for s in specs], dtype=torch.int32),
            "names": torch.tensor([s["name"] for s in specs]),
            "ref": set_references(a.batch, self.single, a.groups, a.group_size),
            "t": t,
            "drop": torch.rand(a.batch, generator=g) < CFG_DROP,
        }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="training/data")
    p.add_argument("--vae", default="training/runs/shipped/vae.pt")
    p.add_argument("--out", required=True, help="folder for ckpt/ (shards.py) and the plan")
    p.add_argument("--device", default="cuda")
    p.add_argument("--threads", type=int, help="torch's CPU threads (default: its own choice, which on a CPU run can leave cores idle)")
    p.add_argument("--minutes", type=float, default=7.0, help="training time budget (start-up and saving come on top)")
    p.add_argument("--steps", type=int, help="planned steps (default: as many as --minutes holds, timed on the first steps)")
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ema", type=float, default=0.9995)
    p.add_argument("--widths", default="48,96,192", help="the U-Net's block_out_channels")
    p.add_argument("--groups", type=int, default=32, help="StyleAligned sets per step (train.py --groups)")
    p.add_argument("--group-size", type=int, default=4)
    p.add_argument("--name-loss", type=float, default=0.2)
    p.add_argument("--names", type=int, default=128, help="train on the vocabulary's first N names")
    p.add_argument("--focus", type=int, default=32, help="--focus-share of the single samples from the first N names (the everyday set)")
    p.add_argument("--focus-share", type=float, default=0.25)
    p.add_argument("--high-t", type=float, default=0.3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-seed", type=int, default=2)
    p.add_argument("--workers", type=int, default=12, help="CPU processes drawing the batches' styles and captions")
    p.add_argument("--init", help="start from this checkpoint's EMA weights (a file or a shards.py folder, e.g. an earlier GPU run's ckpt), with a fresh optimiser and plan")
    p.add_argument("--save-every-min", type=float, default=2.0)
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None, help="bfloat16 autocast for the U-Net and text encoder (default: on a GPU)")
    args = p.parse_args()
    started = time.time()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    bf16 = args.bf16 if args.bf16 is not None else device.type == "cuda"
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    os.makedirs(args.out, exist_ok=True)

    bank, entries = load_data(args.data)
    tokenizer = caption_tokenizer(entries)

    # The batched drawing must be style.draw's, on this device too, before any step relies on it.
    error = style_batch.check(bank, entries, range(64), device)
    print(f"draw_batch vs style.draw on 64 samples: max difference {error:.2e}", flush=True)
    assert error < 1e-4, "style_batch.draw_batch no longer reproduces style.draw"

    vae = torch.load(args.vae, map_location="cpu", weights_only=False)
    encoder = load_vae(vae)[0].to(device).requires_grad_(False)
    masks, accents = bank.masks.to(device), bank.accents.to(device)

    @torch.no_grad()
    def encode(rows, params):
        images = style_batch.draw_batch(masks[rows], accents[rows], params) * 2 - 1
        return encoder(images)[0]

    torch.manual_seed(args.seed)
    widths = [int(w) for w in args.widths.split(",")]
    unet, text_encoder = build_models(vae["latent_channels"], tokenizer.vocab_size, widths=widths)
    name_head = torch.nn.Linear(TEXT_DIM, len(entries))
    if args.init:
        ck = shards.load(args.init)
        assert ck["merges"] == tokenizer.merges, "vocabulary changed since the --init checkpoint"
        assert ck["unet_config"]["block_out_channels"] == widths, f"--init has widths {ck['unet_config']['block_out_channels']}, not --widths {widths}"
        unet.load_state_dict(ck["ema_unet"])
        text_encoder.load_state_dict(ck["ema_text_encoder"])
        name_head.load_state_dict(ck["name_head"])
        scaling_factor = ck["scaling_factor"]  # its latents' scale, which its weights learned
        print(f"initialised from {args.init} (its step {ck['step']})", flush=True)
    else:
        # Unit-variance latents, as train.py measures them (there on its encoded set).
        specs = [style.sample_spec(bank, entries, SCALE_SEED + i, names=list(range(args.names))) for i in range(SCALE_SAMPLES)]
        rows = torch.tensor([s["row"] for s in specs], device=device)
        params = torch.tensor([style_batch.style_params(s["style"]) for s in specs], device=device)
        latents = torch.cat([encode(rows[i : i + 512], params[i : i + 512]) for i in range(0, SCALE_SAMPLES, 512)])
        scaling_factor = float(1.0 / latents.float().std())
    unet, text_encoder, name_head = unet.to(device), text_encoder.to(device), name_head.to(device)
    text_params = list(text_encoder.parameters()) + list(name_head.parameters())
    opt = torch.optim.AdamW(list(unet.parameters()) + text_params, lr=args.lr, weight_decay=0.01)
    ema = {"unet": copy.deepcopy(unet.state_dict()), "text_encoder": copy.deepcopy(text_encoder.state_dict())}
    live = {"unet": unet.state_dict(), "text_encoder": text_encoder.state_dict()}
    acp = alphas_cumprod().to(device)
    print(
        f"{device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}), bf16 {bf16}; {len(entries)} names (training on {args.names}), "
        f"scaling_factor {scaling_factor:.4f}; unet {widths} {count_parameters(unet) / 1e6:.2f}M params, text encoder {count_parameters(text_encoder) / 1e6:.2f}M; "
        f"batch {args.batch} ({args.groups} sets of {args.group_size}); ready after {time.time() - started:.0f} s",
        flush=True,
    )

    def save(step):
        shards.save(checkpoint_state(step, unet, text_encoder, name_head, ema, scaling_factor, tokenizer, args), os.path.join(args.out, "ckpt"))

    data = Batches(args, bank, entries, tokenizer)
    plan = args.steps
    budget_end = time.time() + args.minutes * 60
    parallel = {"num_workers": args.workers, "prefetch_factor": 4, "persistent_workers": True} if args.workers else {}
    loader = torch.utils.data.DataLoader(data, sampler=range(plan or len(data)), batch_size=None, pin_memory=device.type == "cuda", **parallel)
    unet.train()
    text_encoder.train()
    last_save = time.time()
    empty_ids = torch.tensor(tokenizer.encode(""), dtype=torch.int32, device=device)[None]
    # Summed on the device: reading a loss every step would wait for the GPU every step.
    def new_window():
        return {"loss": torch.zeros((), device=device), "name": torch.zeros((), device=device), "n": 0, "since": time.time()}

    window = new_window()
    noise_g = torch.Generator(device=device)
    step = 0
    for batch in loader:
        if plan is not None and step >= plan:
            break
        if time.time() > budget_end + 30:  # a plan that overran its timing: stop, keep what was learned
            print(f"time budget passed at step {step} of {plan}: stopping", flush=True)
            break
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        clean = encode(batch["rows"], batch["params"]) * scaling_factor
        noise_g.manual_seed(args.seed * 1_000_003 + step)
        noise = torch.randn(clean.shape, generator=noise_g, device=device)
        a = acp[batch["t"]][:, None, None, None]
        noisy = a.sqrt() * clean + (1 - a).sqrt() * noise
        ids = torch.where(batch["drop"][:, None], empty_ids, batch["ids"])
        for group in opt.param_groups:
            group["lr"] = lr_at(step, plan or 10**9, args.lr)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss, name_loss = step_losses(unet, text_encoder, name_head, ids, noisy, batch["t"], noise, acp, batch["ref"] if args.groups else None, batch["names"], batch["drop"], args.name_loss)
        optimise(opt, loss + args.name_loss * name_loss, unet, text_params)
        step += 1
        update_ema(ema, live, step, args.ema)
        window["loss"] += loss.detach()
        window["name"] += name_loss.detach()
        window["n"] += 1

        if step == SETTLE:
            timed_from = time.time()
        if plan is None and step == SETTLE + TIMED:
            rate = TIMED / (time.time() - timed_from)
            # 5% spare: stage 12's steps on the CPU ran 4% slower on average than its timed ones.
            plan = step + int(rate * max(budget_end - time.time(), 0) * 0.95)
            print(f"plan: {plan} steps at {rate:.1f} steps/s (repeat with --steps {plan})", flush=True)
        if step % 200 == 0 or step == plan:
            n = max(window["n"], 1)
            print(f"step {step}/{plan} loss {window['loss'].item() / n:.4f} name {window['name'].item() / n:.4f} lr {opt.param_groups[0]['lr']:.2e} {window['n'] / (time.time() - window['since']):.1f} steps/s, {(time.time() - started) / 60:.1f} min", flush=True)
            window = new_window()
        if time.time() - last_save > args.save_every_min * 60:
            save(step)
            last_save = time.time()
    save(step)
    with open(os.path.join(args.out, "plan.json"), "w") as f:
        json.dump({"steps": step, "planned": plan, "args": vars(args), "minutes": (time.time() - started) / 60}, f, indent=2)
    print(f"saved step {step} to {args.out}/ckpt after {(time.time() - started) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
