#!/usr/bin/env bash
# The GPU run (training/README.md, "A GPU run"): run by the device tool from the repository root,
# with training/data/glyphs.npz, training/data/vocabulary.json and training/runs/shipped/vae.pt
# carried. Extra arguments go to gpu_train.py (e.g. --steps N to repeat a plan).
set -euo pipefail
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
PYTHONUNBUFFERED=1 python3 training/gpu_train.py --out "$OUT/run" --minutes "${MINUTES:-6.5}" "$@" 2>&1 | tee "$OUT/train.log"
