"""The built-in heads: rendered 3-D heads, side view -> frontal view pairs, split by identity."""

import re

import numpy as np
import pytest
import torch

from studio.ml.data.heads import BACKGROUND, SIDE_YAWS, make_backdrops, make_heads, render_heads, sample_heads
from studio.ml.data.paired import PairedImages
from studio.ml.data.shapes import LUMA

IDENTITIES = 10  # two of them held out; 70 small renders, a fraction of a second
VIEWS = len(SIDE_YAWS)


@pytest.fixture(scope="module")
def heads() -> PairedImages:
    """On the plain background, where outlines are easy to find."""
    return make_heads(32, 3, identities=IDENTITIES, seed=0, backdrop=False)


def luma(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) uint8 -> (N, H, W) luminance in [0, 1]."""
    return np.einsum("nchw,c->nhw", images.float().numpy() / 255.0, LUMA)


def test_same_seed_same_pixels_other_seed_other_heads(heads):
    again = make_heads(32, 3, identities=IDENTITIES, seed=0, backdrop=False)
    assert torch.equal(again.inputs, heads.inputs) and torch.equal(again.targets, heads.targets)
    assert all(np.array_equal(again.factors[k], heads.factors[k]) for k in heads.factors)
    other = make_heads(32, 3, identities=IDENTITIES, seed=1, backdrop=False)
    assert not np.allclose(other.factors["face_width"], heads.factors["face_width"])
    assert (other.targets.float() - heads.targets.float()).abs().mean() > 5


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_dtype_and_metadata(size, channels):
    data = make_heads(size, channels, identities=2, seed=3)
    assert isinstance(data, PairedImages) and data.name == "heads"
    assert data.inputs.shape == data.targets.shape == (2 * VIEWS, channels, size, size)
    assert data.inputs.dtype == data.targets.dtype == torch.uint8
    assert data.setup_values() == {"image_size": size, "channels": channels}
    assert "seed 3" in data.description


def test_gray_is_the_luminance_of_the_colour_heads():
    rgb = make_heads(32, 3, identities=2, seed=2)
    gray = make_heads(32, 1, identities=2, seed=2)
    for colour, one in ((rgb.inputs, gray.inputs), (rgb.targets, gray.targets)):
        assert np.abs(luma(colour) * 255 - one[:, 0].float().numpy()).max() <= 1.0


@pytest.mark.parametrize("kwargs", [{"channels": 2}, {"size": 48}, {"identities": 0}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        make_heads(**{"size": 32, "identities": 2, **kwargs})


def test_factors_and_labels_describe_every_pair(heads):
    f, n = heads.factors, len(heads)
    assert n == IDENTITIES * VIEWS
    assert set(f) == {"identity", "yaw", "face_width", "eye_height", "eye_spacing", "nose_length",
                      "mouth_height", "skin", "hair"}
    assert all(len(value) == n for value in f.values())
    assert f["skin"].shape == f["hair"].shape == (n, 3)
    assert ((f["skin"] >= 0) & (f["skin"] <= 1)).all() and ((f["hair"] >= 0) & (f["hair"] <= 1)).all()
    assert np.array_equal(f["identity"], np.repeat(np.arange(IDENTITIES), VIEWS))
    assert np.array_equal(f["yaw"], np.tile(SIDE_YAWS, IDENTITIES)) and 0 not in SIDE_YAWS
    for key in ("face_width", "eye_height", "nose_length", "skin"):  # one value per identity
        per_identity = f[key].reshape(IDENTITIES, VIEWS, -1)
        assert (per_identity == per_identity[:, :1]).all()
    assert heads.labels[VIEWS + 1] == f"head 1, yaw {SIDE_YAWS[1]:+d}°"
    assert all(re.fullmatch(r"head \d+, yaw [+-]\d+°", label) for label in heads.labels)


def test_test_pairs_are_whole_held_out_identities(heads):
    identity = heads.factors["identity"]
    held_out, trained = set(identity[heads.test]), set(identity[~heads.test])
    assert held_out == {0, 5} and not held_out & trained
    assert heads.test.mean() == pytest.approx(0.2)
    assert make_heads(32, 3, identities=1).test.sum() == 0  # one head: nothing to hold out


def test_the_target_is_the_frontal_view_of_the_same_head(heads):
    targets = heads.targets.reshape(IDENTITIES, VIEWS, *heads.targets.shape[1:])
    assert (targets == targets[:, :1]).all()  # the same frontal view for all side views of a head
    frontal = render_heads(sample_heads(IDENTITIES, seed=0), np.zeros(IDENTITIES), 32, 3)
    assert torch.equal(targets[:, 0], frontal)
    gaps = (targets[:, 0, None].float() - targets[None, :, 0].float()).abs().mean(dim=(2, 3, 4))
    assert gaps[~torch.eye(IDENTITIES, dtype=torch.bool)].min() > 1  # every head looks different
    side_gap = (heads.inputs.float() - heads.targets.float()).abs().mean(dim=(1, 2, 3))
    assert side_gap.min() > 3  # no side view is the frontal one


def test_profiles_mirror_each_other_and_the_front_is_symmetric(heads):
    """+90 and -90 show the two profiles: the same outline mirrored (the light is not mirrored)."""
    background = torch.from_numpy(np.round(BACKGROUND * 255)).to(torch.uint8)[:, None, None]

    def outline(images):
        return (images.int() - background.int()).abs().amax(1) > 8

    yaw = heads.factors["yaw"]
    right, left = outline(heads.inputs[yaw == 90]), outline(heads.inputs[yaw == -90])
    assert (right ^ left.flip(-1)).float().mean() < 0.01
    assert (right ^ left).float().mean() > 0.03  # they face opposite ways
    front = outline(heads.targets)
    assert (front ^ front.flip(-1)).float().mean() < 0.01


def test_heads_fit_in_the_image(heads):
    """Only the neck reaches the border (the bottom): the head is never cut off."""
    border = torch.cat([heads.inputs, heads.targets])
    for edge in (border[..., 0, :], border[..., :, 0], border[..., :, -1]):  # top row, left and right columns
        expected = torch.from_numpy(np.round(BACKGROUND * 255)).to(torch.uint8)[:, None]
        assert ((edge.int() - expected.int()).abs() <= 1).all()


def test_colours_follow_the_skin_and_hair_of_each_identity():
    data = make_heads(32, 3, identities=24, seed=5)
    frontal = data.targets[:: VIEWS]  # one per identity
    skin, hair = data.factors["skin"][::VIEWS] @ LUMA, data.factors["hair"][::VIEWS] @ LUMA
    assert skin.std() > 0.1 and hair.std() > 0.1  # dark and light skin, dark and light hair
    face = luma(frontal[..., 16:20, 9:12]).mean(axis=(1, 2))  # a cheek
    crown = luma(frontal[..., 3:6, 12:20]).mean(axis=(1, 2))  # the top of the hair
    assert np.corrcoef(face, skin)[0, 1] > 0.95 and np.corrcoef(crown, hair)[0, 1] > 0.95
    assert np.ptp(frontal.float().mean(dim=(2, 3)).numpy(), axis=0).min() > 30  # every channel varies


def test_each_head_has_its_own_backdrop_behind_all_its_views():
    data, plain = make_heads(32, 3, identities=6, seed=4), make_heads(32, 3, identities=6, seed=4, backdrop=False)
    assert data.name == "heads" and plain.name == "heads_plain"
    gray = torch.from_numpy(np.round(BACKGROUND * 255)).to(torch.uint8)[:, None, None]
    def gray_at(images):
        return (images.int() - gray.int()).abs().amax(1) <= 1

    background = gray_at(plain.inputs) & gray_at(plain.targets)
    assert background.float().mean() > 0.3  # behind the head in both views of a pair
    shared = background.unsqueeze(1).expand_as(data.inputs)
    assert torch.equal(data.inputs[shared], data.targets[shared])  # the same backdrop behind side and front
    backdrops = torch.from_numpy(make_backdrops(6, 32, seed=4))
    assert (backdrops[0] - backdrops[1]).abs().mean() > 0.05  # identities stand before different backdrops
    assert backdrops.std(dim=(2, 3)).min() > 0.02  # with detail, not a flat colour
    assert np.array_equal(data.factors["face_width"], plain.factors["face_width"])  # the heads do not change
