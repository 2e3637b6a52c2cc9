"""Ordered frame folders: a video exported as images, in natural order, as an open sequence."""

import logging

import numpy as np
import torch
from PIL import Image

from studio.ml.data.folder import load_frame_folder, load_image_folder, natural_key

# a clip whose frames are numbered without leading zeros, one in a subfolder: gray level = 20 * frame
FRAMES = {"frame1.png": 1, "frame2.png": 2, "frame10.png": 10, "frame11.png": 11, "part2/frame3.png": 12}


def write_frames(folder):
    for name, number in FRAMES.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (24, 24), 20 * number).save(path)
    return folder


def numbers(data) -> list[int]:
    return [round(v / 20) for v in data.images.float().mean(dim=(1, 2, 3)).tolist()]


def test_natural_key_orders_numbers_by_value():
    names = ["f10.png", "f2.png", "f1.png", "b/f1.png", "a10/f.png", "a2/f.png", "f01.png"]
    expected = ["a2/f.png", "a10/f.png", "b/f1.png", "f01.png", "f1.png", "f2.png", "f10.png"]
    assert sorted(names, key=natural_key) == expected


def test_frames_load_in_natural_order_as_an_open_sequence(tmp_path):
    data = load_frame_folder(write_frames(tmp_path), 16)
    assert numbers(data) == [1, 2, 10, 11, 12]  # frame1, frame2, frame10, frame11, part2/frame3
    assert data.sequence == "open" and data.images.shape == (5, 1, 16, 16)
    assert data.description.startswith("5 frames from")
    now, after = data.batch_pairs(200, torch.Generator().manual_seed(0))
    follows = dict(zip(numbers(data), numbers(data)[1:]))
    for a, b in zip(now.mean(dim=(1, 2, 3)), after.mean(dim=(1, 2, 3))):
        assert follows[round((a.item() + 1) * 127.5 / 20)] == round((b.item() + 1) * 127.5 / 20)


def test_an_image_folder_is_not_a_sequence_and_keeps_its_plain_order(tmp_path):
    data = load_image_folder(write_frames(tmp_path), 16)
    assert numbers(data) == [1, 10, 11, 2, 12] and data.sequence is None


def test_a_corrupt_frame_is_skipped_and_named(tmp_path, caplog):
    write_frames(tmp_path)
    (tmp_path / "frame5.png").write_bytes(np.random.default_rng(0).bytes(300))
    with caplog.at_level(logging.WARNING):
        data = load_frame_folder(tmp_path, 16)
    assert numbers(data) == [1, 2, 10, 11, 12]
    assert [path.name for path, _ in data.skipped] == ["frame5.png"] and "frame5.png" in caplog.text
    assert "1 unreadable" in data.description
