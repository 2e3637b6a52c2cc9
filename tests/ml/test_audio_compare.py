"""Generated loops against training loops: nearest loop and the shared PCA map."""

from __future__ import annotations

import numpy as np

from studio.ml.audio.codec import CQConfig, cached_codec
from studio.ml.audio.compare import loop_images, loop_map
from studio.ml.data.audio import make_bass_loops


def test_copies_find_their_loop_even_under_a_faint_noise_floor():
    loops = make_bass_loops(sample_rate=3840, duration=2.0).waveforms.numpy()
    codec = cached_codec(CQConfig(samples=loops.shape[1]))
    noise = np.random.default_rng(0).standard_normal(loops.shape) * 10 ** (-50 / 20)  # -50 dB
    copies = np.roll(loops, 7, axis=1)[[2, 0, 3]] + noise[:3]  # shifted in time, as a GAN might
    found = loop_map(loop_images(codec, loops), loop_images(codec, copies))
    assert found.nearest.index.tolist() == [2, 0, 3]
    between = loop_map(loop_images(codec, loops), loop_images(codec, loops[[1]])).nearest
    apart = min(np.linalg.norm(found.training_xy[i] - found.training_xy[j]) for i in range(4) for j in range(i))
    assert found.nearest.distance.max() < 0.5 * np.sort(_pairwise(loop_images(codec, loops)))[0]
    assert between.distance[0] == 0 and apart > 0
    assert found.generated_xy.shape == (3, 2) and found.training_xy.shape == (4, 2)


def _pairwise(images) -> np.ndarray:
    flat = images.reshape(len(images), -1).float().div(255).numpy()
    return np.array([np.sqrt(np.mean((flat[i] - flat[j]) ** 2)) for i in range(len(flat)) for j in range(i)])
