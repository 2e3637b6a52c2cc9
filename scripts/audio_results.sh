#!/usr/bin/env bash
# Reproduce docs/results/audio.md: train the spectrogram GAN on the built-in sine tones and the
# waveform GAN on the built-in bass loops with the project's own commands (in parallel, one torch
# thread each: about 25 minutes on a 2-core CPU), then write their loops, spectrograms, partial
# counts, maps and a rendered playback.   scripts/audio_results.sh [OUT_DIR]  (default: docs/results/audio)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/results/audio}
RUNS=${RUNS:-runs/audio}
BIN=${LATENT_STUDIO:-.venv/bin/latent-studio}

train() {  # run name, steps, then training arguments; a finished run is kept (delete it to retrain)
  [ -f "$RUNS/$1/samples/step_$(printf %06d "$2").png" ] && return
  OMP_NUM_THREADS=1 "$BIN" train "${@:3}" --steps "$2" --sample-every 250 --checkpoint-every 250 --out "$RUNS/$1"
}
train sines "${SINE_STEPS:-1500}" cq_dcgan --dataset sine_tones &
train bass "${BASS_STEPS:-2000}" wavegan --dataset bass_loops &
wait

"$BIN" loops "$RUNS/sines/last.safetensors" --out "$RUNS/sines/loops" --count 64 --map --render 8
"$BIN" loops "$RUNS/bass/last.safetensors" --out "$RUNS/bass/loops" --count 16 --map --render 4
for run in sines bass; do
  mkdir -p "$OUT/$run"
  cp "$RUNS/$run/loops/"{spectrograms.png,map.png,map.json,partials.json} "$OUT/$run/"
  cp "$RUNS/$run/loops/"loop_000[0-3].wav "$OUT/$run/"
  cp "$(ls "$RUNS/$run/samples/"*.png | tail -1)" "$OUT/$run/training_samples.png"
done
.venv/bin/python benchmarks/audio.py --threads 1 > "$OUT/benchmark.json"
