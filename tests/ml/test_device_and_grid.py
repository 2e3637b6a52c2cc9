import numpy as np
import pytest
import torch
from PIL import Image

from studio.ml.device import DEVICE_ENV, describe_device, pick_device
from studio.ml.grid import make_grid, save_png


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("studio.ml.device._mps_available", lambda: False)
    assert pick_device() == torch.device("cpu") and pick_device("auto") == torch.device("cpu")
    monkeypatch.setattr("studio.ml.device._mps_available", lambda: True)
    assert pick_device(None) == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_environment_variable_decides_auto(monkeypatch):
    monkeypatch.setenv(DEVICE_ENV, "cpu")
    assert pick_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV, "tpu")
    with pytest.raises(ValueError, match="tpu"):
        pick_device()
    assert pick_device("cpu") == torch.device("cpu")  # an explicit choice wins over the variable


def test_unavailable_or_unknown_devices_are_errors(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr("studio.ml.device._mps_available", lambda: False)
    for name in ("cuda", "cuda:1", "mps"):
        with pytest.raises(ValueError, match=name.split(":")[0]):
            pick_device(name)
    with pytest.raises(ValueError, match="unknown device 'gpu please'"):
        pick_device("gpu please")


def test_describe_cpu():
    assert describe_device("cpu") == f"cpu ({torch.get_num_threads()} threads)"


def test_make_grid_lays_out_tiles_in_rows(tmp_path):
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 3, 4, 5).contiguous() * 20
    grid = make_grid(images, nrow=4, padding=2)
    assert grid.shape == (3 * 6 + 2, 4 * 7 + 2, 3) and grid.dtype == np.uint8  # 4 columns, 3 rows
    assert (grid[2:6, 2:7] == 0).all() and (grid[2:6, 9:14] == 20).all()  # tiles 0 and 1
    assert (grid[8:12, 2:7] == 80).all()  # tile 4 starts row 2
    assert (grid[14:18, 16:21] == 32).all()  # no tile 10: padding colour
    assert make_grid(images, nrow=5).shape == (2 * 6 + 2, 5 * 7 + 2, 3)
    gray = make_grid(images[:, :1])
    path = save_png(gray, tmp_path / "a" / "g.png")
    with Image.open(path) as image:
        assert image.mode == "L" and np.array_equal(np.asarray(image), gray[:, :, 0])
    with pytest.raises(ValueError, match="uint8"):
        make_grid(images.float())


def test_make_grid_is_about_square_for_square_and_wide_tiles():
    square = make_grid(np.zeros((64, 1, 32, 32), np.uint8), padding=0)
    assert square.shape[:2] == (8 * 32, 8 * 32)
    spectrograms = make_grid(np.zeros((64, 1, 64, 256), np.uint8), padding=0)
    assert spectrograms.shape[:2] == (16 * 64, 4 * 256)  # 4 columns, not 8 of 256-wide tiles
