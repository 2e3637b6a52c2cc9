"""The built-in walk: a seeded, smooth, closed sequence of first-person frames; next-frame pairs."""

import math

import numpy as np
import pytest
import torch

from studio.ml.data.base import ImageDataset
from studio.ml.data.shapes import LUMA
from studio.ml.data.walk import build_courtyard, make_walk

N = 128  # frames per lap in these tests: steps of a third of a cell, still smooth


@pytest.fixture(scope="module")
def walk() -> ImageDataset:
    return make_walk(N, 32, channels=3, seed=0)


def gaps(images: torch.Tensor, shift: int) -> torch.Tensor:
    """Mean absolute difference (0..255) between frame i and frame i + shift, wrapping round."""
    frames = images.float()
    return (frames - frames.roll(-shift, 0)).abs().mean(dim=(1, 2, 3))


def test_same_seed_same_frames_other_seed_other_frames(walk):
    again = make_walk(N, 32, channels=3, seed=0)
    assert torch.equal(again.images, walk.images)
    assert all(np.array_equal(again.factors[k], walk.factors[k]) for k in walk.factors)
    other = make_walk(N, 32, channels=3, seed=1)
    assert (other.images.float() - walk.images.float()).abs().mean() > 5  # other colours, other landmarks


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_dtype_and_metadata(size, channels):
    data = make_walk(8, size, channels=channels, seed=3)
    assert data.images.shape == (8, channels, size, size) and data.images.dtype == torch.uint8
    assert data.sequence == "closed" and data.name == "walk" and "seed 3" in data.description
    assert set(data.factors) == {"t", "x", "y", "heading"}
    assert all(len(v) == 8 for v in data.factors.values())


def test_gray_is_the_luminance_of_the_colour_frames():
    rgb = make_walk(8, 32, channels=3, seed=2).images.permute(0, 2, 3, 1).float().numpy()
    gray = make_walk(8, 32, channels=1, seed=2).images[:, 0].float().numpy()
    assert np.abs(rgb @ LUMA - gray).max() <= 1.0


@pytest.mark.parametrize("size", [8, 13, 48])
def test_other_sizes_render(size):
    assert make_walk(4, size).images.shape == (4, 3, size, size)


@pytest.mark.parametrize("kwargs", [{"channels": 2}, {"size": 4}, {"n_frames": 0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        make_walk(**{"n_frames": 4, **kwargs})


def test_factors_trace_the_route_at_even_steps(walk):
    f = walk.factors
    assert np.array_equal(f["t"], np.arange(N) / N)
    assert ((f["heading"] >= 0) & (f["heading"] < 2 * math.pi)).all()
    solid = build_courtyard(np.random.default_rng(0)).solid
    assert not solid[f["y"].astype(int), f["x"].astype(int)].any()  # never inside a wall
    position = np.stack([f["x"], f["y"]], -1)
    step = np.linalg.norm(np.roll(position, -1, 0) - position, axis=1)  # includes last -> first
    assert step.std() < 0.02 * step.mean()  # constant speed, and the loop is closed
    # the camera looks where it goes: heading against the direction of the next step
    towards = np.arctan2(*(np.roll(position, -1, 0) - np.roll(position, 1, 0)).T[::-1])
    assert np.abs(np.angle(np.exp(1j * (towards - f["heading"])))).max() < 0.2


def test_consecutive_frames_are_much_closer_than_far_ones(walk):
    step, half = gaps(walk.images, 1), gaps(walk.images, N // 2)
    assert (step < half).all()
    assert step.median() * 3 < half.median()
    assert step.max() < half.median()


def test_the_loop_closes(walk):
    step = gaps(walk.images, 1)
    assert 0 < step[-1] < 2 * step.median()  # last -> first is an ordinary step


def test_frames_are_varied_scenes_not_flat_images(walk):
    frames = walk.images.float()
    assert frames.std(dim=(1, 2, 3)).min() > 20
    # along the horizon row the walls change colour and distance: many distinct pixel values
    horizon = walk.images[:, :, walk.size // 2 - 2].permute(0, 2, 1)  # (N, width, C), just above
    distinct = [len(torch.unique(row, dim=0)) for row in horizon]
    assert min(distinct) >= 8


def frame_numbers(n: int, sequence: str | None) -> ImageDataset:
    """Frames whose pixel value is their index, so a batch says which frames it holds."""
    images = torch.arange(n, dtype=torch.uint8)[:, None, None, None].expand(n, 1, 4, 4).contiguous()
    return ImageDataset("numbers", images, sequence=sequence)


def indices(batch: torch.Tensor) -> torch.Tensor:
    return ((batch[:, 0, 0, 0] + 1) * 127.5).round().long()


def test_closed_pairs_are_true_successors_including_the_wrap_around():
    now, after = frame_numbers(5, "closed").batch_pairs(400, torch.Generator().manual_seed(0))
    assert now.shape == after.shape == (400, 1, 4, 4) and now.dtype == torch.float32
    assert now.min() >= -1 and now.max() <= 1
    assert torch.equal(indices(after), (indices(now) + 1) % 5)
    assert set(indices(now).tolist()) == {0, 1, 2, 3, 4}  # frame 4 is followed by frame 0


def test_open_pairs_never_wrap():
    now, after = frame_numbers(5, "open").batch_pairs(400, torch.Generator().manual_seed(0))
    assert torch.equal(indices(after), indices(now) + 1)
    assert set(indices(now).tolist()) == {0, 1, 2, 3}


def test_walk_pairs_are_consecutive_frames(walk):
    now, after = walk.batch_pairs(64, torch.Generator().manual_seed(1))
    as_float = walk.images.float().div(127.5).sub(1.0)
    for a, b in zip(now, after):
        index = int((as_float - a).abs().flatten(1).sum(1).argmin())
        assert torch.equal(as_float[(index + 1) % N], b)


def test_pairs_need_a_sequence_of_two_frames_or_more():
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="not a sequence"):
        frame_numbers(5, None).batch_pairs(2, generator)
    with pytest.raises(ValueError, match="at least 2"):
        frame_numbers(1, "open").batch_pairs(2, generator)
    with pytest.raises(ValueError, match="sequence"):
        frame_numbers(5, "looped")
