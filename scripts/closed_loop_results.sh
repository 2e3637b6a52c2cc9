#!/usr/bin/env bash
# Reproduce docs/results/closed-loop.md: train a plain VAE-GAN on the walk and predictive ones on the
# walk in strides with the project's own commands, then run their closed loops. About 30 minutes
# on a 2-core CPU.   scripts/closed_loop_results.sh [OUT_DIR]   (default: docs/results/closed-loop)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/closed-loop}
RUNS=${RUNS:-runs/closed-loop}
STEPS=${STEPS:-1500}
BIN=${LATENT_STUDIO:-.venv/bin/latent-studio}
# small networks: the loop iterates hundreds of trajectories
MODEL=(--nz 16 --nef 32 --ngf 32 --ndf 32 --batch-size 32 --steps "$STEPS" --checkpoint-every 250)

train() {  # name, then training arguments; one torch thread each, two runs share the cores
  OMP_NUM_THREADS=1 "$BIN" train vaegan "${MODEL[@]}" --out "$RUNS/$1" "${@:2}"
}
train plain --dataset walk &
train next --dataset walk --predict next &
wait
train strides --dataset walk_strides --predict next &
train strides_g1 --dataset walk_strides --predict next --gamma 1.0 &
wait

for model in plain next strides strides_g1; do
  "$BIN" closed-loop "$RUNS/$model/last.safetensors" --out "$OUT/$model" --starts random --count 64 --steps 200
done
