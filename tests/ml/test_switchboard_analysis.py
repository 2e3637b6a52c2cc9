"""What the switchboard measures: probes, colour separation, colour vs structure error, tables."""

import math

import numpy as np
import pytest
import torch

from studio.ml.analysis import switchboard as sb
from studio.ml.data.paired import PairedImages
from studio.ml.models.unet import UNet
from studio.ml.training.ablation import AblationRow, evaluate, variant_folder, variant_label, write_table

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


@pytest.fixture
def images():
    return torch.rand(4, 3, 48, 48, generator=torch.Generator().manual_seed(0)) * 1.6 - 0.8


class Identity(torch.nn.Module):
    """A translation that keeps every colour where it was: what the paper found its U-Net to do."""

    def __init__(self):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(()))  # gives translate() a device

    def forward(self, images, keep=None):
        return images


class GreyMixer(Identity):
    """A translation that mixes the channels: every output channel is their mean."""

    def forward(self, images, keep=None):
        return images.mean(1, keepdim=True).expand_as(images)


def test_the_colour_grid_keeps_one_channel_per_cell_neighbours_differing(images):
    probe = sb.colour_grid_probe(images)
    cells = sb.grid_channel_map(48)
    for row in range(3):
        for col in range(3):
            kept = int(cells[row * 16, col * 16])
            patch = probe[:, :, row * 16:(row + 1) * 16, col * 16:(col + 1) * 16]
            assert torch.equal(patch[:, kept], images[:, kept, row * 16:(row + 1) * 16, col * 16:(col + 1) * 16])
            assert (patch[:, [c for c in range(3) if c != kept]] == -1).all()
            if col < 2:
                assert kept != int(cells[row * 16, (col + 1) * 16])
            if row < 2:
                assert kept != int(cells[(row + 1) * 16, col * 16])


@pytest.mark.parametrize("channel", [0, 1, 2])
def test_a_channel_probe_keeps_only_that_channel(images, channel):
    probe = sb.channel_probe(images, channel)
    assert torch.equal(probe[:, channel], images[:, channel])
    assert (probe[:, [c for c in range(3) if c != channel]] == -1).all()
    assert sb.channel_share(probe, channel).min() == pytest.approx(1.0)


def test_colour_separation_tells_a_colour_keeping_model_from_a_mixing_one(images):
    probe = sb.colour_grid_probe(images)
    kept = sb.colour_separation(sb.translate(Identity(), probe))
    mixed = sb.colour_separation(sb.translate(GreyMixer(), probe))
    assert kept.shape == (4, 3, 3)
    assert kept.min() > 0.99
    assert mixed.max() < 0.4  # a third of the light in each channel


def test_colour_error_sees_lost_colour_and_structure_error_lost_detail():
    g = torch.Generator().manual_seed(0)
    colours = torch.nn.functional.interpolate(torch.rand(4, 3, 4, 4, generator=g), size=48, mode="bilinear")
    detail = torch.rand(4, 1, 48, 48, generator=g) * 0.3  # grey fine texture, like a face's features
    images = (colours * 0.7 + detail) * 2 - 1
    grey = sb._luma((images + 1) / 2).expand_as(images) * 2 - 1  # same brightness, no colour
    blurred = sb._box_blur(images, 7)  # same colour over patches, no fine detail
    assert sb.colour_error(images, images) == 0 and sb.structure_error(images, images) == 0
    assert sb.colour_error(grey, images) > 10 * sb.colour_error(blurred, images)
    assert sb.structure_error(blurred, images) > 10 * sb.structure_error(grey, images)


def pairs(n=10, size=32):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(n, 3, size, size, generator=g) * 255).to(torch.uint8)
    return PairedImages("p", x, x.flip(-1).contiguous(), np.arange(n) % 5 == 0)


def test_the_zeroing_study_measures_every_mask_and_the_identity_has_no_error():
    rows = sb.zeroing_study(Identity(), PairedImages("same", *(pairs().inputs,) * 2, np.arange(10) % 5 == 0))
    assert [r.mask for r in rows] == ["all", *[f"only latent{i}" for i in range(1, 6)],
                                      *[f"-latent{i}" for i in range(1, 6)]]
    assert all(r.mse == 0 and r.colour_error == 0 for r in rows)


def test_the_one_on_grid_has_input_all_and_five_masks():
    model = UNet(3, 32, 4).eval()
    data = pairs()
    grid, columns = sb.mask_grid(model, torch.rand(2, 3, 32, 32) * 2 - 1, "one-on")
    assert grid.shape == (14, 3, 32, 32)
    assert columns == ["input", "all", *[f"only latent{i}" for i in range(1, 6)]]
    assert math.isfinite(sb.split_mse(model, data, "test"))


def test_the_table_puts_ours_beside_the_papers(tmp_path):
    model = UNet(3, 32, 4, skips=(2,)).eval()
    rows = [evaluate(model, pairs(), "2", 5), AblationRow("13", variant_label("13"), 0.5, 0.25, 5)]
    csv_path, md_path = write_table(rows, tmp_path)
    text = md_path.read_text()
    assert "| Concat2 | 2 | 5 |" in text and "| 0.0014 | 0.0087 |" in text  # Table 2's Concat2
    assert "| Concat1,3 | 13 | 5 | 0.5000 | 0.2500 |  |  |" in text  # a variant the paper did not train
    assert csv_path.read_text().splitlines()[0].startswith("skips,label,train_mse,test_mse")
    assert [variant_folder(v) for v in ("none", "1234", "12")] == ["ae", "unet", "concat1-2"]


def test_errors_on_the_subject_ignore_what_differs_behind_it():
    g = torch.Generator().manual_seed(2)
    targets = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    outputs = targets.clone()
    outputs[..., :, 20:] = torch.rand(2, 3, 32, 12, generator=g) * 2 - 1  # wrong on the right only
    subject = torch.zeros(2, 32, 32, dtype=torch.bool)
    subject[..., :, :8] = True  # the subject: the left quarter, far from the change (beyond the blurs)
    assert sb.colour_error(outputs, targets) > 0 and sb.structure_error(outputs, targets) > 0
    assert sb.colour_error(outputs, targets, subject) == 0 and sb.structure_error(outputs, targets, subject) == 0


def test_the_zeroing_study_measures_the_head_when_the_data_marks_it():
    from studio.ml.data.heads import make_heads

    heads = make_heads(32, 3, identities=5)
    assert heads.target_mask is not None and 0.2 < heads.target_mask.float().mean() < 0.8
    rows = sb.zeroing_study(UNet(3, 32, 4).eval(), heads)
    assert all(math.isfinite(r.subject_colour_error) and math.isfinite(r.subject_structure_error) for r in rows)
    assert math.isnan(sb.zeroing_study(Identity(), pairs())[0].subject_colour_error)  # no mask: not measured
