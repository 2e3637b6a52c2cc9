"""A user's paired folder: input/ and target/ matched by name, split by test/ or every fifth pair."""

import logging

import numpy as np
import pytest
import torch
from PIL import Image

from studio.ml.data.base import DatasetError
from studio.ml.data.paired import PairedImages, load_paired_folder


def save(path, colour=(200, 30, 30), size=(40, 30), mode="RGB", **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, **kwargs)
    return path


def pair(root, name, shade, suffixes=(".png", ".png"), under=""):
    """input/<name> in red, target/<name> in green, both of brightness ``shade``."""
    save(root / under / "input" / f"{name}{suffixes[0]}", (shade, 0, 0))
    save(root / under / "target" / f"{name}{suffixes[1]}", (0, shade, 0), quality=95)


def reds_and_greens(data: PairedImages) -> tuple[np.ndarray, np.ndarray]:
    """The mean red of each input and the mean green of each target."""
    return data.inputs[:, 0].float().mean(dim=(1, 2)).numpy(), data.targets[:, 1].float().mean(dim=(1, 2)).numpy()


def test_pairs_are_matched_by_name_whatever_the_suffix_and_subfolder(tmp_path):
    pair(tmp_path, "a", 250, (".png", ".jpg"))
    pair(tmp_path, "b", 150, (".bmp", ".png"), under="")
    save(tmp_path / "input" / "nested" / "c.png", (60, 0, 0), size=(300, 120))
    save(tmp_path / "target" / "nested" / "c.jpeg", (0, 60, 0), size=(16, 16), quality=95)
    data = load_paired_folder(tmp_path, size=32)
    assert isinstance(data, PairedImages) and data.name == tmp_path.name
    assert data.inputs.shape == data.targets.shape == (3, 3, 32, 32) and data.inputs.dtype == torch.uint8
    assert data.labels == ["a", "b", "nested/c"] and not data.skipped
    reds, greens = reds_and_greens(data)
    assert np.allclose(reds, [250, 150, 60], atol=3) and np.allclose(greens, [250, 150, 60], atol=3)


def test_a_test_folder_holds_the_test_pairs(tmp_path):
    for index, name in enumerate("abcd"):
        pair(tmp_path, name, 40 + 20 * index)
    pair(tmp_path, "x", 240, under="test")
    pair(tmp_path, "y", 220, (".png", ".jpg"), under="test")
    data = load_paired_folder(tmp_path, size=16)
    assert data.labels == ["a", "b", "c", "d", "test/x", "test/y"]
    assert data.test.tolist() == [False] * 4 + [True] * 2
    assert np.allclose(reds_and_greens(data)[1][data.test], [240, 220], atol=3)
    assert "test/" in data.description


def test_without_a_test_folder_every_fifth_pair_in_natural_order_is_held_out(tmp_path):
    for index in range(1, 12):  # frame1 .. frame11: natural order puts frame2 before frame10
        pair(tmp_path, f"frame{index}", 10 * index)
    data = load_paired_folder(tmp_path, size=16)
    assert data.labels == [f"frame{index}" for index in range(1, 12)]
    assert [label for label, held in zip(data.labels, data.test) if held] == ["frame1", "frame6", "frame11"]
    assert np.allclose(reds_and_greens(data)[0], 10 * np.arange(1, 12), atol=2)


@pytest.mark.parametrize("count, held_out", [(1, 0), (2, 1), (5, 1), (6, 2)])
def test_at_least_one_training_pair_remains(tmp_path, count, held_out):
    for index in range(count):
        pair(tmp_path, f"p{index}", 100)
    data = load_paired_folder(tmp_path, size=16)
    assert int(data.test.sum()) == held_out and (~data.test).any()


def test_unpaired_ambiguous_and_corrupt_files_are_skipped_and_named(tmp_path, caplog):
    pair(tmp_path, "good", 200)
    save(tmp_path / "input" / "lonely.png")
    save(tmp_path / "target" / "sub" / "orphan.jpg")
    (tmp_path / "input" / "broken.png").write_text("this is not an image")
    save(tmp_path / "target" / "broken.png")
    save(tmp_path / "input" / "twice.png")
    save(tmp_path / "input" / "twice.jpg")
    save(tmp_path / "target" / "twice.png")
    with caplog.at_level(logging.WARNING):
        data = load_paired_folder(tmp_path, size=16)
    assert data.labels == ["good"] and len(data) == 1
    reasons = {path.relative_to(tmp_path).as_posix(): reason for path, reason in data.skipped}
    assert reasons["input/lonely.png"] == "no target/lonely.* for input/lonely.png"
    assert reasons["target/sub/orphan.jpg"] == "no input/sub/orphan.* for target/sub/orphan.jpg"
    assert "not an image" in reasons["input/broken.png"]
    assert "input/broken.png" in reasons["target/broken.png"]  # its partner, named
    assert "input/twice.jpg" in reasons["input/twice.png"] and "input/twice.png" in reasons["input/twice.jpg"]
    assert "input/twice.*" in reasons["target/twice.png"]
    assert len(reasons) == 7 and "7 files skipped" in data.description
    for name in reasons:
        assert name.split("/")[-1] in caplog.text


def test_channels_follow_the_data_unless_asked(tmp_path):
    save(tmp_path / "input" / "a.png", 90, mode="L")
    save(tmp_path / "target" / "a.png", 180, mode="L")
    assert load_paired_folder(tmp_path, size=16).channels == 1
    assert load_paired_folder(tmp_path, size=16, channels=3).channels == 3
    save(tmp_path / "target" / "a.png", (180, 20, 20))  # one colour image: the set is colour
    data = load_paired_folder(tmp_path, size=16)
    assert data.channels == 3 and data.inputs.shape == (1, 3, 16, 16)
    gray = load_paired_folder(tmp_path, size=16, channels=1)
    assert gray.targets.shape == (1, 1, 16, 16) and abs(int(gray.targets[0, 0, 8, 8]) - 68) <= 1  # luminance


def test_missing_or_unusable_folders_name_the_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_paired_folder(tmp_path / "nowhere", size=16)
    (tmp_path / "input").mkdir()
    with pytest.raises(DatasetError, match="target/") as error:
        load_paired_folder(tmp_path, size=16)
    assert str(tmp_path) in str(error.value)
    (tmp_path / "target").mkdir()
    with pytest.raises(DatasetError, match="no image files") as error:
        load_paired_folder(tmp_path, size=16)
    assert str(tmp_path) in str(error.value)
    save(tmp_path / "input" / "alone.png")
    with pytest.raises(DatasetError, match="no usable pairs") as error:
        load_paired_folder(tmp_path, size=16)
    assert str(tmp_path) in str(error.value) and "no target/alone.*" in str(error.value)
    pair(tmp_path, "t", 100, under="test")  # test pairs but nothing to train on
    with pytest.raises(DatasetError, match="training pairs"):
        load_paired_folder(tmp_path, size=16)
