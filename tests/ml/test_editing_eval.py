"""Label-free evaluation of direction models: attribute regressors and the editing measures."""

import math

import numpy as np
import pytest
import torch

from studio.ml.analysis.attributes import (
    FACTORS,
    Ranges,
    attribute_change,
    read_attributes,
    regressor_accuracy,
    train_regressor,
    true_attributes,
)
from studio.ml.analysis.editing import evaluate_editor, side_effects
from studio.ml.data.shapes import make_shapes
from studio.ml.models.dcgan import Generator
from studio.ml.models.directions import LinearDirections, WarpedDirections
from studio.ml.models.latent_editor import LatentEditor


@pytest.fixture(scope="module")
def shapes():
    return make_shapes(512, 32, channels=3, seed=3)


@pytest.fixture(scope="module")
def regressor(shapes):
    return train_regressor(shapes, steps=150, batch_size=32)


def test_the_regressors_learn_the_factors(shapes, regressor):
    model, accuracy = regressor
    held_out = torch.arange(len(shapes) - 64, len(shapes))
    untrained = train_regressor(shapes, steps=1)[0]
    before = regressor_accuracy(untrained, shapes, held_out)
    after = regressor_accuracy(model, shapes, held_out)
    for name in ("x", "y", "hue", "background"):
        assert after[f"{name}_error_pct"] < 0.7 * before[f"{name}_error_pct"], name
    assert set(accuracy) == {f"{name}_error_pct" for name in FACTORS} | {"kind_accuracy", "images"}


def test_circular_factors_change_the_short_way_round():
    ranges = Ranges(x=1.0, y=1.0, scale=1.0, background=1.0)
    before = {name: torch.tensor([0.0]) for name in FACTORS} | {"hue": torch.tensor([0.95])}
    after = {name: torch.tensor([0.0]) for name in FACTORS} | {"hue": torch.tensor([0.05]), "x": torch.tensor([0.5])}
    change = attribute_change(before, after, ranges)
    assert change["hue"].item() == pytest.approx(10.0) and change["x"].item() == pytest.approx(50.0)


def test_true_attributes_read_rotation_modulo_the_kinds_symmetry():
    factors = {"kind": np.array([1, 1, 0]), "rotation": np.array([0.1, 0.1 + math.pi / 2, 1.0]),
               "x": np.zeros(3), "y": np.zeros(3), "scale": np.full(3, 0.3), "hue": np.zeros(3),
               "background": np.zeros(3, dtype=int)}
    rotation = true_attributes(factors)["rotation"]
    assert rotation[0].item() == pytest.approx(rotation[1].item(), abs=1e-6)  # a square turned by 90 degrees
    assert math.isnan(rotation[2].item())  # a circle has none


def test_data_without_known_factors_is_refused():
    from studio.ml.data.base import ImageDataset

    with pytest.raises(ValueError, match="'mine' has no known shape factors"):
        train_regressor(ImageDataset("mine", torch.zeros(4, 3, 32, 32, dtype=torch.uint8)))


def test_side_effects_are_per_unit_of_the_most_specific_directions_target():
    random = [10.0] * len(FACTORS)
    effects = [[40.0, 4.0, 0, 0, 0, 8.0],  # moves x, a little y and background
               [20.0, 2.0, 0, 0, 0, 0],  # also x, but less specifically
               [1.0, 1.0, 1.0, 1.0, 30.0, 3.0]]  # hue
    table = side_effects(effects, random)
    assert list(table) == ["x", "hue"]
    assert table["x"] == pytest.approx({"y": 0.1, "scale": 0, "rotation": 0, "hue": 0, "background": 0.2})
    assert table["hue"]["background"] == pytest.approx(0.1)


def test_linear_edits_commute_and_bending_warped_ones_do_not(regressor, shapes):
    model, _ = regressor
    torch.manual_seed(0)
    generator = Generator(8, 8, 3, 32).eval()
    linear = LatentEditor(generator, LinearDirections(8, 3)).eval()
    warped = LatentEditor(generator, WarpedDirections(8, 3, dipoles=2)).eval()
    ranges = Ranges.of(shapes.factors)
    a = evaluate_editor(linear, model, ranges, shift=2.0, latents=16, pair_latents=8)
    b = evaluate_editor(warped, model, ranges, shift=2.0, latents=16, pair_latents=8)
    assert a.commutativity_latent < 1e-5 and a.commutativity_pct < 0.01 and a.undo_pct < 0.01
    assert b.commutativity_latent > 0.1 and b.undo_pct > a.undo_pct
    assert len(a.effects) == 3 and all(len(row) == len(FACTORS) for row in a.effects)
    assert a.pairs == 3 and len(a.matched) == 3 and set(a.matched) <= set(FACTORS)
    assert [entry["factor"] for entry in a.factor_names()] == a.matched


def test_reading_attributes_of_generated_images_gives_every_factor(regressor):
    model, _ = regressor
    read = read_attributes(model, torch.rand(5, 3, 32, 32) * 2 - 1)
    assert set(read) == set(FACTORS) | {"kind", "kind_probabilities"}
    assert read["kind_probabilities"].shape == (5, 4)
