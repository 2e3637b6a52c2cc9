"""Walker paths: lerp and slerp, and paths through several keyframes."""

import math

import pytest
import torch

from studio.ml.analysis.latent_paths import lerp, path_point, sample_path, seed_latent, slerp


def test_lerp_endpoints_and_midpoint():
    a, b = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    assert torch.equal(lerp(a, b, 0.0), a) and torch.equal(lerp(a, b, 1.0), b)
    assert torch.allclose(lerp(a, b, 0.5), torch.tensor([2.0, 0.0]))
    rows = lerp(a, b, torch.tensor([0.0, 0.25, 1.0]))
    assert rows.shape == (3, 2) and torch.allclose(rows[1], torch.tensor([1.0, 1.0]))


def test_slerp_endpoints_midpoint_and_norm():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    assert torch.allclose(slerp(a, b, 0.0), a) and torch.allclose(slerp(a, b, 1.0), b)
    half = math.sqrt(0.5)
    assert torch.allclose(slerp(a, b, 0.5), torch.tensor([half, half]))  # on the arc, not the chord
    # equal-norm endpoints in higher dimensions: every point keeps that norm
    za, zb = seed_latent(1, 64), seed_latent(2, 64)
    zb = zb * za.norm() / zb.norm()
    points = slerp(za, zb, torch.linspace(0, 1, 11))
    assert torch.allclose(points.norm(dim=1), za.norm().expand(11), rtol=1e-5)
    assert lerp(za, zb, 0.5).norm() < 0.9 * za.norm()  # the straight line cuts inside the shell


def test_slerp_of_nearly_parallel_and_degenerate_vectors_is_finite():
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    b = a * 2 + 1e-9  # parallel within rounding: the angle is ~0
    mid = slerp(a, b, 0.5)
    assert torch.isfinite(mid).all() and torch.allclose(mid, lerp(a, b, 0.5))
    assert torch.allclose(slerp(a, -a, 0.25), lerp(a, -a, 0.25))  # opposite: no unique arc
    zero = torch.zeros(3, dtype=torch.float64)
    assert torch.allclose(slerp(zero, a, 0.5), a / 2)


@pytest.mark.parametrize("mode", ["linear", "spherical"])
def test_a_keyframe_path_passes_through_every_keyframe(mode):
    keys = torch.stack([seed_latent(s, 8) for s in range(4)])
    for k in range(4):
        assert torch.allclose(path_point(keys, k / 3, mode), keys[k], atol=1e-6)
    samples = sample_path(keys, 3 * 5 + 1, mode)  # (K - 1) * m + 1 frames land on every keyframe
    assert samples.shape == (16, 8)
    assert torch.allclose(samples[::5], keys, atol=1e-6)
    # within a segment, the point matches the two-point interpolation of that segment
    two = slerp if mode == "spherical" else lerp
    assert torch.allclose(path_point(keys, 0.5, mode), two(keys[1], keys[2], 0.5), atol=1e-6)


def test_sample_counts_and_single_keyframe():
    keys = torch.randn(2, 5)
    assert sample_path(keys, 1).shape == (1, 5) and torch.equal(sample_path(keys, 1)[0], keys[0])
    assert torch.equal(sample_path(keys[:1], 4, "spherical"), keys[:1].expand(4, 5))


@pytest.mark.parametrize("call, message", [
    (lambda: sample_path(torch.randn(2, 3), 0), "at least 1"),
    (lambda: sample_path(torch.randn(3), 4), "(K, D)"),
    (lambda: sample_path(torch.zeros(0, 3), 4), "(K, D)"),
    (lambda: sample_path(torch.randn(2, 3), 4, "cubic"), "unknown path mode"),
    (lambda: path_point(torch.randn(2, 3), 1.5), "[0, 1]"),
    (lambda: path_point(torch.tensor([[0.0, math.nan]]), 0.5), "NaN"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        call()


def test_seeds_give_fixed_latents():
    assert torch.equal(seed_latent(7, 16), seed_latent(7, 16))
    assert not torch.equal(seed_latent(7, 16), seed_latent(8, 16))
