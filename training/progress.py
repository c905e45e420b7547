"""What every training loop here does around its steps: the options and set-up of a run, the log
line (mean losses over the last --log-every steps, learning rate, seconds per step, ETA, what is
left of the time budget), the checkpoint cadence and the time budget."""
import os
import time

import torch


def add_run_options(parser, time_budget_min):
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-budget-min", type=float, default=time_budget_min, help="stop (with a checkpoint) after this long")
    parser.add_argument("--ckpt-every-min", type=float, default=10)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--threads", type=int, default=2)


def start_run(args):
    """Threads and the run folder (--run): its checkpoint's path, and the run's Progress."""
    torch.set_num_threads(args.threads)
    os.makedirs(args.run, exist_ok=True)
    return os.path.join(args.run, "ckpt.pt"), Progress(args.steps, args.time_budget_min, args.ckpt_every_min, args.log_every)


class Progress:
    def __init__(self, steps, time_budget_min, ckpt_every_min, log_every):
        self.started = time.time()
        self.steps = steps
        self.deadline = self.started + time_budget_min * 60
        self.ckpt_every = ckpt_every_min * 60
        self.log_every = log_every
        self.last_ckpt = self.started
        self._reset(self.started)

    def _reset(self, now):
        self.sums, self.count, self.window_start = {}, 0, now

    def record(self, step, lr, **losses):
        """After step `step` (counted from 1): adds its losses, and prints the line when one is due."""
        for k, v in losses.items():
            self.sums[k] = self.sums.get(k, 0.0) + v
        self.count += 1
        if step % self.log_every != 0 and step != self.steps:
            return
        now = time.time()
        per_step = (now - self.window_start) / self.count
        means = " ".join(f"{k} {v / self.count:.4f}" for k, v in self.sums.items())
        print(
            f"step {step}/{self.steps} {means} lr {lr:.2e} {per_step:.2f} s/step elapsed {(now - self.started) / 60:.1f} min "
            f"eta {per_step * (self.steps - step) / 60:.1f} min (budget ends in {(self.deadline - now) / 60:.1f} min)",
            flush=True,
        )
        self._reset(now)

    def after_step(self, step, checkpoint, evaluate=None, eval_every=0):
        """Evaluates every `eval_every` steps, checkpoints every --ckpt-every-min minutes; True
        when the time budget is spent and the loop must stop."""
        if evaluate and step % eval_every == 0:
            evaluate()
        if time.time() - self.last_ckpt > self.ckpt_every:
            checkpoint()
            self.last_ckpt = time.time()
        if time.time() <= self.deadline:
            return False
        print(f"time budget reached at step {step}", flush=True)
        return True

    def finish(self, path, step, checkpoint, evaluate=None, evaluated=False):
        """The last evaluation (unless the last step had one) and checkpoint."""
        if evaluate and not evaluated:
            evaluate()
        checkpoint()
        print(f"saved {path} at step {step}; done in {(time.time() - self.started) / 60:.1f} min", flush=True)
