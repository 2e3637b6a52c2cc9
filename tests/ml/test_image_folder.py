import logging

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from studio.ml.data.base import DatasetError
from studio.ml.data.folder import image_extensions, load_image_folder


def save(path, size=(40, 30), colour=(200, 30, 30), mode="RGB", **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, **kwargs)
    return path


@pytest.fixture
def messy(tmp_path):
    """Good images of distinct colours (sizes mixed, nested folders) among broken files."""
    save(tmp_path / "a.png", (40, 30), (250, 0, 0))
    save(tmp_path / "nested" / "deeper" / "b.jpg", (300, 120), (0, 250, 0), quality=95)
    save(tmp_path / "nested" / "c.bmp", (5, 3), (0, 0, 250))  # tiny: upscaled
    good = save(tmp_path / "d.png", (64, 64), (250, 250, 0))
    data = good.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])  # truncated
    (tmp_path / "garbage.png").write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)))
    (tmp_path / "corrupt.png").write_bytes(data[:40] + b"\x00" * 60 + data[100:])  # header intact, data broken
    (tmp_path / "notes.png").write_text("this is not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "readme.txt").write_text("not an image extension: ignored, not skipped")
    (tmp_path / ".hidden").mkdir()
    save(tmp_path / ".hidden" / "thumb.png")  # hidden folders are not part of the data
    return tmp_path


BAD = ["corrupt.png", "cut.png", "empty.jpg", "garbage.png", "notes.png"]


def test_bad_files_are_skipped_and_named(messy, caplog):
    with caplog.at_level(logging.WARNING):
        data = load_image_folder(messy, size=32)
    assert data.images.shape == (4, 3, 32, 32) and data.images.dtype == torch.uint8
    assert sorted(path.name for path, _ in data.skipped) == BAD
    assert all(reason and str(messy) not in reason for _, reason in data.skipped)  # short reasons
    for name in BAD:
        assert name in caplog.text
    assert "4 images" in data.description and "5 unreadable" in data.description


def test_files_are_loaded_in_sorted_order_whatever_their_size(messy):
    data = load_image_folder(messy, size=32)
    # a.png, d.png, nested/c.bmp, nested/deeper/b.jpg: red, yellow, blue, green
    mean_colour = data.images.float().mean(dim=(2, 3))
    expected = torch.tensor([[250, 0, 0], [250, 250, 0], [0, 0, 250], [0, 250, 0]], dtype=torch.float)
    assert torch.allclose(mean_colour, expected, atol=6)
    assert torch.equal(load_image_folder(messy, size=32).images, data.images)


def test_truncated_files_fail_even_if_pil_was_told_to_pad_them(messy):
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        data = load_image_folder(messy, size=32)
        assert "cut.png" in [path.name for path, _ in data.skipped]
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the caller's setting is restored
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


def test_grayscale_folder_is_one_channel_unless_asked(tmp_path):
    for i in range(3):
        save(tmp_path / f"{i}.png", colour=60 * i, mode="L")
    save(tmp_path / "rgb_but_gray.jpg", colour=(90, 90, 90))  # gray content in an RGB file
    data = load_image_folder(tmp_path, 32)
    assert data.channels == 1 and data.images.shape == (4, 1, 32, 32)
    assert data.images[:3].float().mean(dim=(1, 2, 3)).tolist() == pytest.approx([0, 60, 120], abs=1)
    assert load_image_folder(tmp_path, 32, channels=3).channels == 3
    save(tmp_path / "colour.png", colour=(200, 0, 0))
    assert load_image_folder(tmp_path, 32).channels == 3  # one colour image: RGB


def test_colour_folder_can_be_loaded_as_luminance(messy):
    data = load_image_folder(messy, 32, channels=1)
    assert data.images.shape == (4, 1, 32, 32)
    assert data.images[0].float().mean().item() == pytest.approx(0.299 * 250, abs=2)  # red


def test_centre_crop_and_exif_orientation(tmp_path):
    wide = np.zeros((30, 90, 3), np.uint8)
    wide[:, :30, 0], wide[:, 30:60, 1], wide[:, 60:, 2] = 255, 255, 255  # red | green | blue
    Image.fromarray(wide).save(tmp_path / "a_wide.png")
    halves = np.zeros((20, 40, 3), np.uint8)
    halves[:, :20, 0], halves[:, 20:, 2] = 255, 255  # red left, blue right
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(halves).save(tmp_path / "b_rotated.png", exif=exif)
    data = load_image_folder(tmp_path, 16)
    crop = data.images[0].float().mean(dim=(1, 2))
    assert crop[1] > 240 and crop[0] < 15 and crop[2] < 15  # only the green middle third is kept
    rotated = data.images[1].float()
    assert rotated[0, :6].mean() > 240 and rotated[2, -6:].mean() > 240  # red on top, blue below


def test_transparency_and_16_bit(tmp_path):
    rgba = Image.new("RGBA", (20, 20), (255, 0, 0, 0))  # fully transparent red
    rgba.save(tmp_path / "a_clear.png")
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "b_16bit.png")
    data = load_image_folder(tmp_path, 16, channels=3)
    assert data.images[0].float().mean() > 250  # composited onto white, not red or black
    assert 110 < data.images[1].float().mean() < 145  # scaled to 8 bits, not clipped to white


def test_progress_is_reported(messy):
    calls = []
    load_image_folder(messy, 32, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 9) for i in range(1, 10)]  # 9 image files, 5 of them bad


def test_big_images_load(tmp_path):
    save(tmp_path / "big.jpg", (3000, 2000), (10, 120, 200))
    save(tmp_path / "big.png", (2500, 2500), (10, 120, 200))
    data = load_image_folder(tmp_path, 64)
    assert data.images.shape == (2, 3, 64, 64)
    assert torch.allclose(data.images.float().mean(dim=(2, 3)), torch.tensor([[10.0, 120, 200]] * 2), atol=4)


def test_missing_empty_and_unusable_folders_name_the_folder(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.*does not exist"):
        load_image_folder(tmp_path / "nowhere", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no image files in .*empty"):
        load_image_folder(tmp_path / "empty", 32)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_text("nope")
    (bad / "y.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"no usable images in .*bad: all 2 .*x\.png: .*y\.jpg: empty file"):
        load_image_folder(bad, 32)
    assert issubclass(DatasetError, ValueError)


def test_pil_extensions_are_used():
    extensions = image_extensions()
    assert {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".webp"} <= extensions
    assert ".txt" not in extensions
