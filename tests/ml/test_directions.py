"""The three direction models, their unsupervised training on a frozen generator, and edit recipes."""

import json
import math
from pathlib import Path

import pytest
import torch

from studio.ml.analysis.edit_recipe import EditRecipe, RecipeError, check_model, file_sha256, replay
from studio.ml.checkpoints import CheckpointError, save_checkpoint
from studio.ml.models.directions import (
    CouplingFlow,
    CurvilinearDirections,
    LinearDirections,
    WarpedDirections,
    make_directions,
)
from studio.ml.models.generators import load_generator
from studio.ml.training.dcgan import DCGANTrainer
from studio.ml.training.directions import DirectionTrainer
from studio.ml.training.run import checkpoint_meta

NZ = 6


def perturbed(module: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> torch.nn.Module:
    """``module`` with every parameter moved off its (identity-like) initial value."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


@pytest.fixture
def flow() -> CouplingFlow:
    torch.manual_seed(0)
    return perturbed(CouplingFlow(NZ, couplings=4, hidden=16)).double()


def test_the_flow_inverts_exactly(flow):
    z = torch.randn(32, NZ, dtype=torch.float64)
    v, log_det = flow(z)
    back, log_det_back = flow.inverse(v)
    assert (v - z).abs().max() > 0.1  # a real map, not the identity
    torch.testing.assert_close(back, z, atol=1e-10, rtol=0)
    torch.testing.assert_close(log_det_back, -log_det, atol=1e-10, rtol=0)


def test_the_flows_log_determinant_is_that_of_its_jacobian(flow):
    z = torch.randn(4, NZ, dtype=torch.float64)
    _, log_det = flow(z)
    for row, expected in zip(z, log_det):
        jacobian = torch.autograd.functional.jacobian(lambda x: flow(x[None])[0][0], row)
        torch.testing.assert_close(torch.linalg.slogdet(jacobian)[1], expected, atol=1e-9, rtol=0)
    assert log_det.abs().max() > 0.05  # not volume-preserving by accident


def test_the_flows_kept_matrices_follow_its_parameters(flow):
    z = torch.randn(3, NZ, dtype=torch.float64)
    with torch.inference_mode():  # kept here (the inference thread's path) ...
        v = flow(z)[0]
    with torch.no_grad():  # ... and used by no-grad code
        torch.testing.assert_close(flow(z)[0], v)
        flow.layers[0].log_scale.add_(0.5)  # an optimiser step: the kept matrices must go
        moved = flow(z)[0]
    assert (moved - v).abs().max() > 0.1
    torch.testing.assert_close(flow(z)[0], moved)  # with gradients: built afresh, the same map
    torch.testing.assert_close(flow.inverse(moved)[0], z, atol=1e-10, rtol=0)


def test_curvilinear_edits_commute_and_undo_while_bending():
    torch.manual_seed(1)
    model = perturbed(CurvilinearDirections(NZ, NZ, couplings=4, hidden=16)).double()
    z = torch.randn(16, NZ, dtype=torch.float64)
    kl = model.apply_in_turn(z, [(0, 1.5), (3, -2.0)])
    lk = model.apply_in_turn(z, [(3, -2.0), (0, 1.5)])
    torch.testing.assert_close(kl, lk, atol=1e-9, rtol=0)
    torch.testing.assert_close(model.apply_in_turn(kl, [(0, -1.5), (3, 2.0)]), z, atol=1e-9, rtol=0)
    torch.testing.assert_close(model.apply(z, [(0, 1.5), (3, -2.0)]), kl, atol=1e-9, rtol=0)
    # ... along curved paths: the midpoint of an edit is off the straight line between its ends
    half, full = model.apply(z, [(0, 0.75)]), model.apply(z, [(0, 1.5)])
    assert ((half - (z + full) / 2).norm(dim=1) > 1e-3).all()


def test_linear_edits_commute_and_are_straight_unit_steps():
    model = LinearDirections(NZ, 3)
    z = torch.randn(8, NZ)
    kl, lk = model.apply_in_turn(z, [(0, 2.0), (1, 1.0)]), model.apply_in_turn(z, [(1, 1.0), (0, 2.0)])
    torch.testing.assert_close(kl, lk)
    torch.testing.assert_close((model.apply(z, [(2, 3.0)]) - z).norm(dim=1), torch.full((8,), 3.0))


def test_warped_fields_that_bend_do_not_commute():
    torch.manual_seed(2)
    model = WarpedDirections(NZ, 3, dipoles=2).double()
    z = torch.randn(16, NZ, dtype=torch.float64)
    kl = model.apply_in_turn(z, [(0, 2.0), (1, 2.0)])
    lk = model.apply_in_turn(z, [(1, 2.0), (0, 2.0)])
    assert (kl - lk).norm(dim=1).mean() > 0.1
    step = model.apply(z, [(0, 0.5)]) - z  # each Euler step has length t / steps
    torch.testing.assert_close(step.norm(dim=1), torch.full((16,), 0.5, dtype=torch.float64), atol=0.02, rtol=0)


def test_bad_directions_are_refused_with_their_numbers():
    with pytest.raises(IndexError, match="direction 5 out of range: the model has 3"):
        LinearDirections(NZ, 3).apply(torch.zeros(1, NZ), [(5, 1.0)])
    with pytest.raises(ValueError, match="at most nz=6"):
        CurvilinearDirections(NZ, 7)
    with pytest.raises(ValueError, match="unknown direction method 'bent'"):
        make_directions("bent", NZ, 2)


# -- training on a frozen generator -------------------------------------------------------------
@pytest.fixture(scope="module")
def generator_file(tmp_path_factory, shapes32):
    """A tiny DCGAN on the shapes, a few steps in, saved as its trainer saves it."""
    config = {"image_size": 32, "channels": 3, "nz": NZ, "ngf": 8, "ndf": 8, "batch_size": 8}
    trainer = DCGANTrainer(config, shapes32, seed=0)
    for _ in range(3):
        trainer.step()
    path = tmp_path_factory.mktemp("gen") / "dcgan.safetensors"
    save_checkpoint(path, trainer.state_tensors(), checkpoint_meta(trainer, {"name": "shapes"}, {}))
    return path


def direction_trainer(generator_file, shapes32, method: str, **config) -> DirectionTrainer:
    config = {"generator": str(generator_file), "method": method, "directions": 3, "batch_size": 16,
              "image_size": 32, "channels": 3, "hidden": 16} | config
    return DirectionTrainer(config, shapes32, seed=0)


@pytest.mark.parametrize("method", ["linear", "warped", "curvilinear"])
def test_the_reconstructor_learns_to_tell_the_directions_apart(generator_file, shapes32, method):
    trainer = direction_trainer(generator_file, shapes32, method, lr=3e-3)
    frozen = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    losses = [trainer.step()["loss_direction"] for _ in range(40)]
    assert sum(losses[-10:]) / 10 < 0.8 * sum(losses[:10]) / 10
    assert all(torch.equal(v, trainer.generator.state_dict()[k]) for k, v in frozen.items())  # never trained


def test_the_sample_grid_walks_each_direction(generator_file, shapes32):
    trainer = direction_trainer(generator_file, shapes32, "linear")
    grid = trainer.sample_grid()
    assert grid.shape == (64, 3, 32, 32) and grid.dtype == torch.uint8
    from studio.ml.data.base import to_uint8

    shifts = torch.linspace(-3.0, 3.0, 8)  # max_shift's default
    for row in (0, 4):  # row r: fixed z r along direction r mod 3
        z = trainer.fixed_z[row].expand(8, NZ)
        with torch.no_grad():
            expected = to_uint8(trainer.generator(trainer.directions.shift(z, torch.full((8,), row % 3), shifts)))
        assert (grid[8 * row:8 * row + 8].int() - expected.int()).abs().max() <= 1


def test_the_editor_keeps_the_generator_it_was_trained_with(generator_file, shapes32, tmp_path):
    trainer = direction_trainer(generator_file, shapes32, "curvilinear")
    trainer.step()
    state = trainer.state_tensors()
    z = torch.randn(2, NZ)
    before = trainer.inference_model().render(z, [(1, 1.0)])
    other = direction_trainer(generator_file, shapes32, "curvilinear")
    other.generator.apply(lambda m: torch.nn.init.normal_(m.weight) if hasattr(m, "weight") else None)
    other.load_state(state, trainer.extra_state())
    torch.testing.assert_close(other.inference_model().render(z, [(1, 1.0)]), before)


def test_a_generator_that_is_missing_or_not_a_generator_is_named(tmp_path, shapes32, generator_file):
    with pytest.raises(CheckpointError, match="gone.safetensors not found"):
        direction_trainer(tmp_path / "gone.safetensors", shapes32, "linear")
    not_gen = tmp_path / "unet.safetensors"
    save_checkpoint(not_gen, {"x": torch.zeros(1)}, {"kind": "unet", "config": {}})
    with pytest.raises(CheckpointError, match="holds a 'unet' model, not a generator"):
        load_generator(not_gen)
    with pytest.raises(ValueError, match="give the generator checkpoint"):
        DirectionTrainer({"image_size": 32, "channels": 3}, shapes32)


def test_data_the_generator_does_not_draw_is_refused(generator_file):
    from studio.ml.data.shapes import make_shapes

    with pytest.raises(ValueError, match="draws 3-channel 32px images, but dataset 'shapes' holds 1-channel"):
        direction_trainer(generator_file, make_shapes(8, 32, channels=1), "linear", channels=1)


# -- recipes ----------------------------------------------------------------------------------
def test_a_recipe_replays_the_same_image_and_refuses_another_model(generator_file, shapes32, tmp_path):
    trainer = direction_trainer(generator_file, shapes32, "warped")
    trainer.step()
    editor = trainer.inference_model()
    ckpt = save_checkpoint(tmp_path / "warped.safetensors", trainer.state_tensors(),
                           checkpoint_meta(trainer, {"name": "shapes"}, {}))
    recipe = EditRecipe(str(ckpt), file_sha256(ckpt), "warped", edits=[(2, 1.5), (0, -1.0)], seed=7)
    recipe.save(tmp_path / "recipe.json")
    loaded = EditRecipe.load(tmp_path / "recipe.json")
    check_model(loaded, ckpt)
    image = replay(loaded, editor)
    z = loaded.start_latent(NZ)
    with torch.no_grad():
        torch.testing.assert_close(image, editor.render(z, [(2, 1.5), (0, -1.0)]))
        assert not torch.allclose(image, editor.render(z, [(0, -1.0), (2, 1.5)]))  # warped: order matters

    ckpt.write_bytes(ckpt.read_bytes() + b" ")
    with pytest.raises(RecipeError, match="not the direction model the recipe was made with"):
        check_model(loaded, ckpt)
    (tmp_path / "bad.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(RecipeError, match="bad.json: not an edit recipe"):
        EditRecipe.load(tmp_path / "bad.json")


# -- shipping a direction model (the bundled checkpoints/) ------------------------------------------
def test_a_weights_only_folder_moves_with_its_generator(generator_file, shapes32, tmp_path):
    """Exported as scripts/bundle_checkpoints.py does it: no optimiser state, the generator named by
    a path relative to the checkpoint. The folder loads from anywhere, draws the same, trains on."""
    import shutil

    from studio.catalog import Catalog
    from studio.ml.checkpoints import load_checkpoint, without_optimizer_state
    from studio.plugin_manager import PluginManager

    trainer = direction_trainer(generator_file, shapes32, "curvilinear")
    trainer.step()
    full = save_checkpoint(tmp_path / "full.safetensors", trainer.state_tensors(),
                           checkpoint_meta(trainer, {"name": "shapes"}, {}))
    slim = without_optimizer_state(load_checkpoint(full))
    assert len(slim.tensors) < len(load_checkpoint(full).tensors) and slim.meta["weights_only"]
    folder = tmp_path / "shipped"
    folder.mkdir()
    shutil.copy(generator_file, folder / "generator.safetensors")
    meta = slim.meta | {"config": slim.meta["config"] | {"generator": "generator.safetensors"}}
    shipped = save_checkpoint(folder / "directions.safetensors", slim.tensors, meta)
    moved = shutil.move(folder, tmp_path / "elsewhere")

    plugins = PluginManager()
    plugins.discover()
    catalog = Catalog.from_plugins(plugins)
    editor, _, _ = catalog.load_model(Path(moved) / shipped.name, torch.device("cpu"), shapes32)
    z = torch.randn(2, NZ)
    with torch.no_grad():
        torch.testing.assert_close(editor.render(z, [(1, 1.0)]), trainer.inference_model().render(z, [(1, 1.0)]))
    restored, _, _ = catalog.restore(Path(moved) / shipped.name, torch.device("cpu"), shapes32)
    assert restored.steps_done == 1 and math.isfinite(restored.step()["loss_total"])  # Adam starts afresh
