#!/usr/bin/env bash
# Reproduce docs/results/editing.md: a DCGAN on the built-in shapes (32x32, nz 16), then the
# linear, warped and curvilinear direction models on that frozen generator (side by side, one torch
# thread each), then their label-free evaluation with attribute regressors. About 35 minutes on a
# 2-core CPU. A run that already reached its steps is kept (delete its folder to train it again).
#   scripts/editing_results.sh [OUT_DIR]  (default: docs/results/editing)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/editing}
RUNS=${RUNS:-runs/editing}
GAN_STEPS=${GAN_STEPS:-4000}
STEPS=${STEPS:-2000}
BIN=${LATENT_STUDIO:-.venv/bin/latent-studio}
PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=1

# true when RUN's checkpoint holds at least STEPS steps
done_at() { "$PY" -c "import sys; from studio.ml.checkpoints import read_checkpoint_meta as m
sys.exit(0 if m(sys.argv[1]).get('step', 0) >= int(sys.argv[2]) else 1)" "$1/last.safetensors" "$2" 2>/dev/null; }

if ! done_at "$RUNS/dcgan" "$GAN_STEPS"; then
  OMP_NUM_THREADS=2 "$BIN" train dcgan --dataset shapes --size 32 --nz 16 --ngf 32 --ndf 32 --steps "$GAN_STEPS" \
    --sample-every 500 --checkpoint-every 500 --out "$RUNS/dcgan" > "$RUNS/dcgan.log" 2>&1
fi
for method in linear warped curvilinear; do
  if ! done_at "$RUNS/$method" "$STEPS"; then
    "$BIN" train directions --dataset shapes --size 32 --generator "$RUNS/dcgan/last.safetensors" --method "$method" \
      --steps "$STEPS" --sample-every 250 --out "$RUNS/$method" > "$RUNS/$method.log" 2>&1 &
  fi
done
wait
"$BIN" directions-eval "$RUNS"/{linear,warped,curvilinear}/last.safetensors --out "$RUNS/eval"

mkdir -p "$OUT"
cp "$RUNS/eval/"{editing.md,editing.csv,editing.json,effects.md,side_effects.md,order-swap.png} "$OUT/"
cp "$RUNS/eval/"edits-*.png "$OUT/"
cp "$RUNS/dcgan/samples/step_$(printf %06d "$GAN_STEPS").png" "$OUT/generator-samples.png"
