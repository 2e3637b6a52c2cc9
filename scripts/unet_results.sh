#!/usr/bin/env bash
# Reproduce docs/results/unet.md: train the autoencoder, the U-Net and single-skip U-Nets on the
# built-in heads with the project's own commands (64x64, the same seed and steps for each; about
# 35 minutes on a 2-core CPU), then the zeroing study and colour probes of the U-Net and of Concat2.
#   scripts/unet_results.sh [OUT_DIR]  (default: docs/results/unet)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/unet}
RUNS=${RUNS:-runs/unet}
BIN=${LATENT_STUDIO:-.venv/bin/latent-studio}

# finished variants are only evaluated again (delete a variant's folder to retrain it)
"$BIN" unet-ablation --out "$RUNS" --variants "${VARIANTS:-none,1234,1,2,3,4}" --steps "${STEPS:-3000}"
for variant in unet concat2; do
  "$BIN" switchboard "$RUNS/$variant/last.safetensors" --out "$RUNS/$variant/switchboard"
done

mkdir -p "$OUT"
cp "$RUNS/"{mse.md,mse.csv,outputs.png} "$OUT/"
for variant in unet concat2; do
  mkdir -p "$OUT/$variant"
  cp "$RUNS/$variant/switchboard/"{zeroing.md,zeroing.csv,one-on.png,one-off.png,probes.png,probes.json} "$OUT/$variant/"
done
