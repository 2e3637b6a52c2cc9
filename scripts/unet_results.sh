#!/usr/bin/env bash
# Reproduce docs/results/unet.md: train the paper's twelve models (the autoencoder, the U-Net and
# U-Nets with only some skips) on the built-in heads with the project's own commands (64x64, the
# same seed and steps for each), in two halves side by side with one torch thread each: about 40
# minutes on a 2-core CPU. Then the table of all twelve, the zeroing study and the colour probes of
# the U-Net and of Concat2, and the autoencoder against the U-Net on the plain-gray heads.
#   scripts/unet_results.sh [OUT_DIR]  (default: docs/results/unet)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/unet}
RUNS=${RUNS:-runs/unet}
STEPS=${STEPS:-3000}
BIN=${LATENT_STUDIO:-.venv/bin/latent-studio}
export OMP_NUM_THREADS=1

# finished variants are only evaluated again (delete a variant's folder to retrain it)
ablation() { "$BIN" unet-ablation --steps "$STEPS" "$@"; }
ablation --out "$RUNS" --variants none,1234,1,2,3,4 &
ablation --out "$RUNS" --variants 12,23,24,123,124,234 &
ablation --out "$RUNS-plain" --dataset heads_plain --variants none,1234 &
wait
ablation --out "$RUNS" --all  # the whole table, from the finished runs
for variant in unet concat2; do
  "$BIN" switchboard "$RUNS/$variant/last.safetensors" --out "$RUNS/$variant/switchboard"
done

mkdir -p "$OUT/plain"
cp "$RUNS/"{mse.md,mse.csv,outputs.png} "$OUT/"
cp "$RUNS-plain/"{mse.md,mse.csv,outputs.png} "$OUT/plain/"
for variant in unet concat2; do
  mkdir -p "$OUT/$variant"
  cp "$RUNS/$variant/switchboard/"{zeroing.md,zeroing.csv,one-on.png,one-off.png,probes.png,probes.json} "$OUT/$variant/"
done
