import math

import numpy as np
import pytest
import torch

from studio.ml.data.shapes import (
    BACKGROUND_LEVELS, EDGE_MARGIN, LUMA, SCALE_RANGE, SHAPE_KINDS, hue_to_rgb, make_shapes, render_shapes, sample_factors)

# area of each kind relative to scale**2 (scale = circumradius): pi, 2, 3*sqrt(3)/4, and the
# five-pointed star with inner radius 0.5: 10 triangles of sides 1 and 0.5 at 36 degrees
AREAS = {"circle": math.pi, "square": 2.0, "triangle": 3 * math.sqrt(3) / 4,
         "star": 10 * 0.5 * 0.5 * math.sin(math.pi / 5)}


def one_of_each(scale: float, hue: float = 0.6, background: int = 0, rotation: float = 0.4) -> dict:
    n = len(SHAPE_KINDS)
    return {"kind": np.arange(n), "x": np.zeros(n), "y": np.zeros(n), "scale": np.full(n, scale),
            "rotation": np.full(n, rotation), "hue": np.full(n, hue), "background": np.full(n, background)}


def coverage(images: torch.Tensor, factors: dict) -> torch.Tensor:
    """Fraction of each gray image covered by its shape, from the known fg/bg luminance."""
    fg = torch.tensor(hue_to_rgb(factors["hue"]) @ LUMA * 255.0).view(-1, 1, 1, 1)
    bg = torch.tensor(np.asarray(BACKGROUND_LEVELS)[factors["background"]] * 255.0).view(-1, 1, 1, 1)
    return ((images.double() - bg) / (fg - bg)).clamp(0, 1).mean(dim=(1, 2, 3))


def test_same_seed_same_pixels_other_seed_other_pixels():
    a, b, c = make_shapes(64, 32, seed=3), make_shapes(64, 32, seed=3), make_shapes(64, 32, seed=4)
    assert a.images.shape == (64, 3, 32, 32) and a.images.dtype == torch.uint8
    assert torch.equal(a.images, b.images)
    assert all(np.array_equal(a.factors[k], b.factors[k]) for k in a.factors)
    assert (a.images != c.images).float().mean() > 0.1


def test_factors_are_kept_and_in_range():
    n = 2000
    f = make_shapes(n, 32, seed=0).factors
    assert set(f) == {"kind", "x", "y", "scale", "rotation", "hue", "background"}
    assert all(len(v) == n for v in f.values())
    assert set(np.unique(f["kind"])) == set(range(len(SHAPE_KINDS)))
    assert set(np.unique(f["background"])) == set(range(len(BACKGROUND_LEVELS)))
    assert np.all((SCALE_RANGE[0] <= f["scale"]) & (f["scale"] <= SCALE_RANGE[1]))
    assert np.all(np.maximum(np.abs(f["x"]), np.abs(f["y"])) + f["scale"] < 0.5)  # circumcircle inside
    assert np.all((0 <= f["hue"]) & (f["hue"] < 1)) and np.all((0 <= f["rotation"]) & (f["rotation"] < 2 * np.pi))
    widest = 2 * (0.5 - EDGE_MARGIN - SCALE_RANGE[0])  # the centre's range for the smallest shapes
    assert np.ptp(f["x"]) > 0.8 * widest and np.ptp(f["y"]) > 0.8 * widest  # positions actually vary


@pytest.mark.parametrize("size", [32, 64])
def test_every_shape_stays_inside_the_image(size):
    data = make_shapes(600, size, channels=1, seed=1)
    bg = torch.tensor(np.rint(np.asarray(BACKGROUND_LEVELS)[data.factors["background"]] * 255)).view(-1, 1)
    images = data.images[:, 0].double()
    border = torch.cat([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], dim=1)
    assert torch.all((border - bg).abs() <= 1)


def test_kinds_have_their_areas_at_equal_scale():
    factors = one_of_each(scale=0.35)
    areas = coverage(render_shapes(factors, 64, 1), factors) / 0.35**2
    for kind, area in zip(SHAPE_KINDS, areas.tolist()):
        assert area == pytest.approx(AREAS[kind], rel=0.03), kind
    assert areas[0] / areas[1] == pytest.approx(math.pi / 2, rel=0.03)  # circle / square


def test_kinds_are_recognisable_at_32x32_even_at_the_smallest_scale():
    factors = one_of_each(scale=SCALE_RANGE[0])
    images = render_shapes(factors, 32, 1)
    areas = coverage(images, factors) / SCALE_RANGE[0] ** 2
    for kind, area in zip(SHAPE_KINDS, areas.tolist()):
        assert area == pytest.approx(AREAS[kind], rel=0.08), kind
    # and they differ in outline, not only in area: triangle and star have nearly equal areas
    flat = images.view(len(SHAPE_KINDS), -1).double()
    distances = torch.cdist(flat, flat)
    assert distances[~torch.eye(len(SHAPE_KINDS), dtype=torch.bool)].min() > 100


def test_factors_drive_position_colour_and_background():
    factors = one_of_each(scale=0.3, hue=0.0, background=2)
    rgb = render_shapes(factors, 64, 3)
    centre, corner = rgb[:, :, 32, 32].double(), rgb[:, :, 0, 0].double()
    assert torch.allclose(centre, torch.tensor(hue_to_rgb(np.zeros(1)) * 255).expand(4, 3), atol=1)
    assert torch.allclose(corner, torch.full((4, 3), BACKGROUND_LEVELS[2] * 255, dtype=torch.double), atol=1)
    # moving x by 10/64 of the image shifts the picture by exactly 10 px
    shifted = render_shapes(factors | {"x": np.full(4, 10 / 64)}, 64, 3)
    assert torch.equal(shifted[..., 10:], rgb[..., :-10])


def reach(mask: torch.Tensor) -> tuple[int, int]:
    """How far a 64-pixel row/column mask extends before and after the centre."""
    return 32 - int(mask.argmax()), 64 - int(mask.flip(0).argmax()) - 32


def test_rotation_turns_the_shape():
    factors = one_of_each(scale=0.3)
    turned = render_shapes(factors | {"rotation": factors["rotation"] + 0.3}, 64, 1)
    same = render_shapes(factors, 64, 1)
    assert torch.equal(turned[0], same[0])  # a circle does not change
    assert all((turned[i] != same[i]).sum() > 50 for i in (1, 2, 3))
    triangle = one_of_each(scale=0.3, rotation=0.0) | {"kind": np.full(4, 2)}
    triangle["rotation"] = np.array([0.0, np.pi / 2, np.pi, 3 * np.pi / 2])
    ink = render_shapes(triangle, 64, 1)[:, 0] > 40
    cols, rows = ink.any(dim=1).float(), ink.any(dim=2).float()
    (left, right), (up, down) = reach(cols[0]), reach(rows[1])
    assert right > 1.5 * left  # rotation 0: a corner points right
    assert down > 1.5 * up  # a quarter turn clockwise on screen: the corner points down
    square_quarter_turn = render_shapes(factors | {"rotation": factors["rotation"] + np.pi / 2}, 64, 1)
    assert (square_quarter_turn[1].double() - same[1].double()).abs().max() <= 2  # symmetry


def test_grayscale_is_the_luminance_of_the_colour_render():
    factors = sample_factors(50, seed=2)
    rgb, gray = render_shapes(factors, 32, 3).double(), render_shapes(factors, 32, 1).double()
    assert gray.shape == (50, 1, 32, 32)
    luminance = (rgb * torch.tensor(LUMA, dtype=torch.double).view(1, 3, 1, 1)).sum(1, keepdim=True)
    assert (gray - luminance).abs().max() <= 1.5


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="channels"):
        make_shapes(4, 32, channels=2)
    with pytest.raises(ValueError, match="kind"):
        render_shapes(one_of_each(0.3) | {"kind": np.array([0, 1, 2, 7])}, 32, 3)
