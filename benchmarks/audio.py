"""Audio: how fast a loop is generated and made audible, and whether playback keeps up while a
model trains.

    .venv/bin/python benchmarks/audio.py [--loop-seconds 2] [--repeats 15] [--playback-seconds 60]
        [--threads N] [--skip-playback]

Prints JSON:

- ``codec``: the constant-Q round trip on the four built-in bass loops (2 s) and 16 sine tones (1 s):
  the largest sample error with the true phase, and the spectral convergence
  ||S - |A x||| / ||S|| of loops rebuilt from the magnitude alone: with random phase, plain
  Griffin-Lim and fast Griffin-Lim (momentum 0.99) at several iteration counts, with their time.
- ``realtime``: per model kind (untrained weights: the cost does not depend on them), a
  ``--loop-seconds`` loop at 3840 Hz from one z: the generator's forward pass, phase retrieval
  (spectrogram GAN: 32 iterations of fast Griffin-Lim) and the total, medians over ``--repeats``
  after a warm-up; ``realtime_factor`` = loop seconds / total seconds (target >= 20).
- ``playback``: a real output stream (the machine's default device, else a private PulseAudio
  null sink, which consumes audio at real-time rate) plays loops for ``--playback-seconds`` while
  a DCGAN trains flat out in another thread, as in the studio, and a new loop is generated and
  queued every 2 s, as a user morphing would: ``underruns`` (target 0), callbacks, frames consumed
  against the stream's rate, the training steps done meanwhile.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import threading
import time

import _studio  # noqa: F401  (offscreen Qt, a throw-away studio home)
import numpy as np
import torch

from studio.catalog import Catalog, RunSetup
from studio.ml.analysis.latent_paths import seed_latent
from studio.ml.audio.loops import LoopGenerator
from studio.ml.audio.codec import CQConfig, cached_codec
from studio.ml.audio.phase import retrieve_phase, spectral_convergence
from studio.ml.data.audio import make_bass_loops, make_sine_tones
from studio.plugin_manager import PluginManager

RATE = 3840


def catalog() -> Catalog:
    plugins = PluginManager()
    plugins.discover()
    return Catalog.from_plugins(plugins)


def audio_generator(cat: Catalog, kind: str, seconds: float) -> LoopGenerator:
    setup = RunSetup(kind, "bass_loops", sample_rate=RATE, duration=seconds)
    trainer, _ = cat.build_trainer(setup, torch.device("cpu"))
    return LoopGenerator(trainer.inference_model(), trainer.config, cat.model_kind(kind).output)


def codec_quality() -> dict:
    report = {}
    for name, clips in (("bass_loops", make_bass_loops(sample_rate=RATE, duration=2.0)),
                        ("sine_tones", make_sine_tones(count=16, sample_rate=RATE, duration=1.0))):
        audio = clips.waveforms.numpy().astype(np.float64)
        codec = cached_codec(CQConfig(sample_rate=RATE, samples=audio.shape[1]))
        coefficients = codec.analyse(audio)
        magnitude = np.abs(coefficients)
        true_phase = codec.synthesise(magnitude * np.exp(1j * np.angle(coefficients)))
        random_phase = np.exp(2j * np.pi * np.random.default_rng(0).random(magnitude.shape))
        entry = {"clips": len(audio), "image_shape": list(codec.image_shape),
                 "true_phase_max_abs_error": float(np.abs(true_phase - audio).max()),
                 "random_phase_sc": float(spectral_convergence(codec, magnitude, codec.synthesise(
                     magnitude * random_phase)).mean())}
        for label, momentum, counts in (("griffin_lim", 0.0, (32, 100)), ("fast_griffin_lim", 0.99, (8, 16, 32, 64))):
            for iterations in counts:
                start = time.perf_counter()
                rebuilt = retrieve_phase(codec, magnitude, iterations, momentum)
                seconds = (time.perf_counter() - start) / len(audio)
                entry[f"{label}_{iterations}"] = {"sc": float(spectral_convergence(codec, magnitude, rebuilt).mean()),
                                                  "ms_per_clip": 1000 * seconds}
        report[name] = entry
    return report


def time_realtime(generator: LoopGenerator, seconds: float, repeats: int) -> dict:
    forward, invert, total = [], [], []
    for repeat in range(repeats + 1):  # the first is a warm-up
        z = seed_latent(repeat, generator.nz)[None]
        start = time.perf_counter()
        with torch.no_grad():
            drawn = generator.model(z).numpy()
        middle = time.perf_counter()
        if generator.output == "spectrogram":
            retrieve_phase(generator.codec, generator.codec.image_to_magnitude(drawn[:, 0]), generator.iterations)
        end = time.perf_counter()
        if repeat:
            forward.append(middle - start)
            invert.append(end - middle)
            total.append(end - start)
    median = statistics.median(total)
    return {"loop_seconds": seconds, "image_shape": list(generator.codec.image_shape),
            "forward_ms": 1000 * statistics.median(forward), "invert_ms": 1000 * statistics.median(invert),
            "total_ms": 1000 * median, "realtime_factor": seconds / median}


def playback_under_training(cat: Catalog, generator: LoopGenerator, seconds: float) -> dict:
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from studio.runtime.audio_engine import AudioEngine
    app = QCoreApplication.instance() or QCoreApplication([])
    with audio_output() as output:
        engine = AudioEngine()
        ok, message = engine.start()
        if not ok:
            return {"error": message}
        engine.play(generator.generate(seed_latent(0, generator.nz)[None]).audio[0], RATE)
        wait(app, QEventLoop, QTimer, steady(engine), 15.0)
        trainer, _ = cat.build_trainer(RunSetup("dcgan", "shapes"), torch.device("cpu"))
        steps, stop = [0], threading.Event()

        def train():
            while not stop.is_set():
                trainer.step()
                steps[0] += 1

        thread = threading.Thread(target=train, daemon=True)
        underruns0, callbacks0, frames0 = engine.underruns, engine.callbacks, engine.frames_played
        started = time.perf_counter()
        thread.start()
        queued = [0]

        def next_loop():  # what the panel does on a morph: generate off the audio thread, queue
            queued[0] += 1
            loop = generator.generate(seed_latent(queued[0], generator.nz)[None]).audio[0]
            engine.mixer.queue(engine.mixer.prepare(loop, RATE))

        switcher = QTimer(interval=2000, timeout=next_loop)
        switcher.start()
        wait(app, QEventLoop, QTimer, lambda: time.perf_counter() - started >= seconds, seconds + 30)
        switcher.stop()
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join()
        result = {
            "output": output, "status": engine.status, "seconds": elapsed,
            "underruns": engine.underruns - underruns0, "callbacks": engine.callbacks - callbacks0,
            "frames_per_second": (engine.frames_played - frames0) / elapsed, "stream_rate": engine.sample_rate,
            "loops_queued": queued[0], "seams_passed": engine.mixer.seams_passed, "training_steps": steps[0],
        }
        engine.close()
        return result


def steady(engine, window: float = 0.5):
    """A condition: the stream has consumed frames at >= 80% of its rate over the last ``window``
    seconds (PulseAudio pre-fills a buffer at once, then goes quiet for up to ~2 s)."""
    history: list[tuple[float, int]] = []

    def check() -> bool:
        now = time.perf_counter()
        history.append((now, engine.frames_played))
        past = [frames for when, frames in history if now - when >= window]
        return bool(past) and engine.frames_played - past[-1] >= 0.8 * window * engine.sample_rate

    return check


@contextlib.contextmanager
def audio_output():
    """The machine's own output if it has one, else a private PulseAudio null sink; yields its name."""
    from studio.runtime.audio_engine import AudioEngine
    from studio.testing.pulse import null_sink_server

    if AudioEngine.available()[0]:
        yield "default device"
        return
    with null_sink_server() as server:
        yield f"PulseAudio null sink ({server.server})"


def wait(app, QEventLoop, QTimer, condition, timeout: float) -> None:
    """Run the Qt event loop (the engine's timers) until ``condition()`` or ``timeout`` seconds."""
    loop, deadline = QEventLoop(), time.perf_counter() + timeout
    poll = QTimer(interval=50, timeout=lambda: (condition() or time.perf_counter() > deadline) and loop.quit())
    poll.start()
    loop.exec()
    poll.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loop-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--playback-seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--skip-playback", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cat = catalog()
    generators = {kind: audio_generator(cat, kind, args.loop_seconds) for kind in ("cq_dcgan", "wavegan")}
    report = {"torch_threads": torch.get_num_threads(), "codec": codec_quality(),
              "realtime": {kind: time_realtime(g, args.loop_seconds, args.repeats) for kind, g in generators.items()}}
    if not args.skip_playback:
        report["playback"] = playback_under_training(cat, generators["cq_dcgan"], args.playback_seconds)
    print(json.dumps(report, indent=2, default=float))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
