"""The closed-loop runner on tiny VAE-GANs: shapes and counts agree, an exact contraction gives
its fixed point, a cancel returns what was computed, and the caller's model is never modified."""

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from studio.ml.analysis.closed_loop import (
    ClosedLoopSettings,
    dataset_starts,
    filmstrip_steps,
    image_starts,
    random_starts,
    run_closed_loop,
)
from studio.ml.analysis.dynamics import FIXED_POINT, KINDS, LIMIT_CYCLE, Orbit
from studio.ml.data.base import ImageDataset
from studio.ml.models.dcgan import Generator
from studio.ml.models.vaegan import Encoder, VAEGANModel

NZ = 4


@pytest.fixture
def model() -> VAEGANModel:
    torch.manual_seed(0)
    return VAEGANModel(Encoder(NZ, 8, 1, 32), Generator(NZ, 8, 1, 32)).eval().requires_grad_(False)


class HalfwayHome(nn.Module):
    """A VAE-GAN whose loop is made an exact contraction: z -> (z + Enc(Gen(0))) / 2. Its fixed
    point is Enc(Gen(0)), where the Jacobian is I / 2."""

    def __init__(self, model: VAEGANModel):
        super().__init__()
        self.model, self.nz = model, model.nz

    def forward(self, z):
        return self.model(z)

    def encode(self, images):
        return self.model.encode(images)

    def loop(self, z):
        return 0.5 * (z + self.model.loop(torch.zeros_like(z)))


class LogisticLoop(nn.Module):
    """A stand-in whose loop is the logistic map x -> r x (1 - x) on z[0], with r = z[1] kept
    constant: one batch holds a fixed point (r 2.8), cycles of period 2 and 4 (3.2, 3.5) and
    chaos (4.0, LLE ln 2). Only ``loop`` and a parameter (for dtype and device) are used."""

    def __init__(self):
        super().__init__()
        self.nz = 2
        self.dtype_probe = nn.Parameter(torch.zeros(1), requires_grad=False)

    def loop(self, z):
        x, r = z[:, :1], z[:, 1:]
        return torch.cat([r * x * (1 - x) + self.dtype_probe, r], dim=1)


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_both_methods_find_the_logistic_maps_fixed_point_cycles_and_chaos(method):
    from studio.ml.analysis.closed_loop import StartPoints
    from studio.ml.analysis.dynamics import CHAOTIC

    r = torch.tensor([2.8, 3.2, 3.5, 4.0], dtype=torch.float64)
    starts = StartPoints("random", ["r 2.8", "r 3.2", "r 3.5", "r 4"], z=torch.stack([torch.full_like(r, 0.3), r], 1))
    result = run_closed_loop(LogisticLoop(), starts, ClosedLoopSettings(steps=300, method=method))
    assert [(o.kind, o.period) for o in result.orbits] == [
        (FIXED_POINT, 1), (LIMIT_CYCLE, 2), (LIMIT_CYCLE, 4), (CHAOTIC, None)]
    assert result.orbits[3].lyapunov == pytest.approx(math.log(2), abs=0.15)
    # eigenvalues at x* = 1 - 1/r: 2 - r = -0.8 along x, and 1 along r, which the map keeps
    assert result.orbits[0].fixed_point.spectral_radius == pytest.approx(1.0)
    if method == "fast":
        assert result.timings["lyapunov_trajectories"] == 1  # only the chaotic one needed the JVP


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_shapes_counts_and_summary_agree(model, method):
    steps, count = 12, 6
    result = run_closed_loop(model, random_starts(count, NZ, seed=1),
                             ClosedLoopSettings(steps=steps, method=method, lyapunov_steps=30))
    assert result.states.shape == (steps + 1, count, NZ) and result.states.dtype == np.float64
    assert len(result.orbits) == count and sum(result.counts.values()) == count
    assert set(result.counts) == set(KINDS)
    assert result.projected().shape == (steps + 1, count, 2)
    x, x_next = result.return_map(1, "latent")
    assert x.shape == x_next.shape == (steps, count) and np.array_equal(x[1:], x_next[:-1])
    summary = json.loads(json.dumps(result.summary(model={"kind": "vaegan"})))  # JSON-clean (no NaN)
    assert summary["counts"] == result.counts and len(summary["trajectories"]) == count
    assert summary["settings"]["method"] == method and summary["settings"]["starts"] == "random"
    assert result.images(0, [0, steps]).shape == (2, 1, 32, 32)
    # the states start where the prior draws say
    assert np.allclose(result.states[0], random_starts(count, NZ, seed=1).z.numpy())


@pytest.mark.parametrize("method", ["fast", "exact"])
def test_an_exact_contraction_ends_on_its_fixed_point(model, method):
    home = HalfwayHome(model)
    result = run_closed_loop(home, random_starts(5, NZ, seed=2), ClosedLoopSettings(steps=60, method=method))
    assert [o.kind for o in result.orbits] == [FIXED_POINT] * 5
    [(fp, members)] = result.fixed_points()  # one attractor, refined once
    assert members == list(range(5))
    expected = model.double().loop(torch.zeros(1, NZ, dtype=torch.float64))[0].numpy()
    assert np.allclose(fp.point, expected, rtol=0, atol=1e-10)
    assert fp.spectral_radius == pytest.approx(0.5, abs=1e-9) and fp.stable
    assert all(o.lyapunov == pytest.approx(math.log(0.5), abs=1e-6) for o in result.orbits)
    assert json.loads(json.dumps(result.summary()))["fixed_points"][0]["spectral_radius"] == pytest.approx(0.5)


def test_settled_trajectories_stop_being_computed_with_the_same_verdict(model):
    home, starts = HalfwayHome(model), random_starts(4, NZ, seed=3)
    frozen = run_closed_loop(home, starts, ClosedLoopSettings(steps=80))
    full = run_closed_loop(home, starts, ClosedLoopSettings(steps=80, freeze_settled=False))
    assert frozen.timings["computed_fraction"] < 0.6 and "computed_fraction" not in full.timings
    assert [o.kind for o in frozen.orbits] == [o.kind for o in full.orbits] == [FIXED_POINT] * 4
    assert np.allclose(frozen.states, full.states, rtol=0, atol=1e-5)
    assert np.allclose(frozen.fixed_points()[0][0].point, full.fixed_points()[0][0].point, atol=1e-10)


def test_cancel_returns_the_steps_done_so_far(model):
    checks = iter([False] * 7 + [True] * 100)
    result = run_closed_loop(model, random_starts(3, NZ), ClosedLoopSettings(steps=50),
                             cancelled=lambda: next(checks))
    assert result.cancelled and result.steps == 7 and result.states.shape == (8, 3, NZ)
    assert len(result.orbits) == 3  # classified provisionally
    stopped = run_closed_loop(model, random_starts(3, NZ), ClosedLoopSettings(steps=50), cancelled=lambda: True)
    assert stopped.cancelled and stopped.steps == 0 and stopped.orbits == []


def test_the_callers_model_is_not_modified(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    parameters = [p for p in model.parameters()]
    run_closed_loop(model, random_starts(3, NZ), ClosedLoopSettings(steps=5, method="exact"))
    after = model.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())
    assert [p for p in model.parameters()] == parameters and not model.training


def test_progress_reaches_the_end(model):
    seen = []
    settings = ClosedLoopSettings(steps=20)
    run_closed_loop(model, random_starts(2, NZ), settings, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (settings.total_work(), settings.total_work())
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_images_and_dataset_images_are_encoded(model, tmp_path):
    from PIL import Image

    images = torch.randint(0, 256, (10, 1, 32, 32), dtype=torch.uint8)
    starts = dataset_starts(ImageDataset("noise", images), 4, seed=0)
    assert len(starts) == 4 and starts.labels == sorted(starts.labels, key=lambda s: int(s.split("#")[1]))
    path = tmp_path / "look.png"
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(path)
    from_file = image_starts([path])
    for starts in (starts, from_file):
        result = run_closed_loop(model, starts, ClosedLoopSettings(steps=3))
        assert result.states.shape == (4, len(starts), NZ)


def test_a_file_that_is_no_image_is_named(model, tmp_path):
    from studio.ml.data.image_file import ImageFileError

    path = tmp_path / "notes.txt"
    path.write_text("not pixels")
    with pytest.raises(ImageFileError, match="notes.txt"):
        run_closed_loop(model, image_starts([path]), ClosedLoopSettings(steps=3))


def test_filmstrip_steps():
    assert filmstrip_steps(Orbit(LIMIT_CYCLE, 3), 100, frames=12) == list(range(89, 101))
    assert filmstrip_steps(Orbit(LIMIT_CYCLE, 10), 100, frames=12) == list(range(81, 101))  # two turns
    ladder = filmstrip_steps(Orbit(FIXED_POINT, 1), 200, frames=12)
    assert len(ladder) == 12 and ladder[0] == 0 and ladder[-1] == 200 and ladder == sorted(set(ladder))
    assert filmstrip_steps(None, 3) == [0, 1, 2, 3]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="method"):
        ClosedLoopSettings(method="slow")
    with pytest.raises(ValueError, match="steps"):
        ClosedLoopSettings(steps=1)
