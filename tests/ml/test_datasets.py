import numpy as np
import pytest
import torch
from PIL import Image

from studio.ml.data.base import DatasetError
from studio.ml.data.digits import load_digits
from studio.ml.data.folder import load_image_folder
from studio.ml.data.shapes import SHAPE_KINDS, make_shapes, render_shapes, sample_factors


def test_shapes_are_deterministic_from_the_seed():
    a, b, c = make_shapes(64, 32, seed=3), make_shapes(64, 32, seed=3), make_shapes(64, 32, seed=4)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)
    assert a.images.shape == (64, 3, 32, 32) and a.images.dtype == torch.uint8


def test_shape_factors_are_kept_and_in_range():
    data = make_shapes(500, 32, seed=0)
    f = data.factors
    assert set(f) == {"kind", "x", "y", "scale", "rotation", "hue", "background"}
    assert set(np.unique(f["kind"])) == set(range(len(SHAPE_KINDS)))
    assert np.all(np.abs(f["x"]) + f["scale"] <= 0.5) and np.all((0 <= f["hue"]) & (f["hue"] < 1))


def test_kinds_render_differently_and_factors_drive_the_image():
    base = {k: v[:1].repeat(len(SHAPE_KINDS)) for k, v in sample_factors(1, 0).items()}
    base |= {"kind": np.arange(len(SHAPE_KINDS)), "x": np.zeros(4), "y": np.zeros(4), "background": np.zeros(4, int),
             "scale": np.full(4, 0.3), "rotation": np.zeros(4)}
    images = render_shapes(base, 64, 1).float()
    covered = (images > images[0, 0, 0, 0] + 40).float().mean(dim=(1, 2, 3))  # foreground area
    circle, square, triangle, star = covered.tolist()
    assert circle > square > triangle > star > 0.03
    assert min(abs(a - b) for i, a in enumerate(covered) for b in covered[i + 1:]) > 0.01
    moved = render_shapes(base | {"x": np.full(4, 0.15)}, 64, 1)
    assert not torch.equal(moved, render_shapes(base, 64, 1))


def test_grayscale_shapes():
    assert make_shapes(8, 32, channels=1).images.shape == (8, 1, 32, 32)


def test_digits_are_real_and_labelled():
    data = load_digits(32, 1)
    assert data.images.shape == (1797, 1, 32, 32)
    labels = data.factors["label"]
    zeros, ones = data.images[labels == 0].float().mean(0), data.images[labels == 1].float().mean(0)
    assert (zeros - ones).abs().mean() > 10  # a mean 0 and a mean 1 look different
    assert data.images.max() > 200 and data.images.min() == 0
    assert load_digits(64, 3).images.shape == (1797, 3, 64, 64)


def _save(path, size=(40, 30), mode="RGB", colour=(200, 30, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour if mode == "RGB" else 128).save(path)
    return path


def test_folder_skips_bad_files_by_name(tmp_path, caplog):
    _save(tmp_path / "a.png")
    _save(tmp_path / "nested" / "deeper" / "b.jpg", size=(300, 120))
    _save(tmp_path / "tiny.bmp", size=(5, 3))
    good = _save(tmp_path / "full.png", size=(64, 64))
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    (tmp_path / "notes.png").write_text("this is not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "readme.txt").write_text("ignored: not an image extension")
    data = load_image_folder(tmp_path, size=32)
    assert data.images.shape == (4, 3, 32, 32)
    assert sorted(p.name for p, _ in data.skipped) == ["cut.png", "empty.jpg", "notes.png"]
    for name in ("cut.png", "empty.jpg", "notes.png"):
        assert name in caplog.text


def test_folder_of_grayscale_images_is_one_channel(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", mode="L")
    assert load_image_folder(tmp_path, 32).channels == 1
    assert load_image_folder(tmp_path, 32, channels=3).channels == 3


def test_missing_or_unusable_folder_names_the_folder(tmp_path):
    with pytest.raises(DatasetError, match="nowhere"):
        load_image_folder(tmp_path / "nowhere", 32)
    (tmp_path / "bad.png").write_text("nope")
    with pytest.raises(DatasetError, match=r"no usable images in .*bad\.png"):
        load_image_folder(tmp_path, 32)
