"""The attribute editor as a user drives it: direction checkpoints of one tiny (untrained) DCGAN
loaded through Load…, sliders moved live, Undo and Reset, order swaps, the three methods side by
side, factor names, image starts and recipes that replay."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

import studio_plugins.attribute_editor as plugin
import studio_plugins.builtins as builtins
from studio import hookimpl
from studio.catalog import Catalog, RunSetup
from studio.contributions import DatasetSpec
from studio.ml.analysis.edit_recipe import EditRecipe, replay
from studio.ml.checkpoints import save_checkpoint
from studio.ml.data.base import to_uint8
from studio.ml.data.shapes import make_shapes
from studio.ml.training.run import checkpoint_meta
from studio.testing.signals import SignalRecorder
from studio.ui.model_picker import model_name_for
from studio_plugins.attribute_editor.panel import EDIT, METHOD, SWAP

SIZE, NZ, K, MAX_SHIFT = 32, 8, 4, 3.0

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def _tiny_shapes(size, channels, path, seed):
    return make_shapes(48, size, channels or 3, seed)


class TinyShapes:
    """48 shapes: enough to invert a training image, quick to build."""

    @hookimpl
    def register_datasets(self):
        return [DatasetSpec("tiny_shapes", "Tiny shapes", _tiny_shapes)]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """An untrained 32 px DCGAN (nz 8, contrast raised) and untrained linear, warped and curvilinear
    direction models of it (K=4), saved as checkpoints as a training run saves them: method -> path.
    The warped model's random dipoles already bend its paths enough for edits not to commute."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("editor")
    catalog = Catalog(builtins.register_model_kinds(), TinyShapes().register_datasets())
    setup = RunSetup("dcgan", "tiny_shapes", image_size=SIZE, config={"nz": NZ, "ngf": 8, "ndf": 8})
    trainer, data = catalog.build_trainer(setup, "cpu")
    with torch.no_grad():  # an untrained generator draws flat gray (std 2e-4): give its last conv contrast
        drawn = trainer.G.eval()(torch.randn(16, NZ, generator=torch.Generator().manual_seed(0)))
        trainer.G.main[-2].weight.mul_(0.5 / float(drawn.std()))
    generator = save_checkpoint(root / "g.safetensors", trainer.state_tensors(),
                                checkpoint_meta(trainer, setup.dataset_info(data), {}))
    paths = {}
    for method in ("linear", "warped", "curvilinear"):
        config = {"generator": str(generator), "method": method, "directions": K, "max_shift": MAX_SHIFT}
        setup = RunSetup("directions", "tiny_shapes", image_size=SIZE, seed=3, config=config)
        trainer, _ = catalog.build_trainer(setup, "cpu", data)
        paths[method] = save_checkpoint(root / method / "last.safetensors", trainer.state_tensors(),
                                        checkpoint_meta(trainer, setup.dataset_info(data), {}))
    return paths


@pytest.fixture
def panel(make_studio):
    studio = make_studio(builtins, plugin, TinyShapes(), discover=False)
    return studio.panels["attribute_editor"]


def load(panel, qtbot, path) -> str:
    """Load… ``path`` and wait for its first edited image."""
    name = model_name_for(path, "directions")
    panel.picker.load_checkpoint(path)
    qtbot.waitUntil(lambda: panel.picker.current_name() == name, timeout=20_000)
    wait_shown(panel, qtbot)
    return name


def wait_shown(panel, qtbot, requester: str = EDIT) -> torch.Tensor:
    """Wait until the newest edit (or swap, or method column) asked for is on show; the edited image."""
    qtbot.waitUntil(lambda: panel.up_to_date(requester), timeout=20_000)
    return panel.edited.image


def move(panel, qtbot, k: int, value: float, drag: bool = False) -> torch.Tensor:
    """Set slider ``k`` (by a click, or as the end of a drag through a few values); the image."""
    slider = panel.sliders.sliders[k]
    if drag:
        slider.setSliderDown(True)
        for step in (0.25, 0.5, 0.75):
            slider.setValue(value * step)
    slider.setValue(value)
    if drag:
        slider.setSliderDown(False)
    return wait_shown(panel, qtbot)


def test_sliders_edit_live_and_undo_and_reset_restore(panel, qtbot, checkpoints):
    assert "No direction model yet" in panel.edit_view.start.text()
    name = load(panel, qtbot, checkpoints["warped"])
    assert panel.picker.current_name() == name and len(panel.sliders.sliders) == K
    assert [slider.maximum() for slider in panel.sliders.sliders] == [MAX_SHIFT] * K
    assert panel.sliders.labels() == [f"direction {k}" for k in range(K)]
    assert panel.edit_view.start.has_image and "seed 0" in panel.source.current.text()
    start = panel.edited.image
    assert torch.equal(panel.edited.start_image, start)  # no edit yet: the edited image is G(z)

    first = move(panel, qtbot, 2, 2.0)
    assert not torch.equal(first, start) and panel.edited.edits == ((2, 2.0),)
    second = move(panel, qtbot, 0, -1.5, drag=True)  # one undo step for the whole drag
    assert panel.sliders.edits() == ((2, 2.0), (0, -1.5))  # in the order first moved
    assert "direction 2 +2.00 → direction 0 -1.50" in panel.sliders.order_label.text()

    panel.sliders.undo_button.click()
    assert torch.equal(wait_shown(panel, qtbot), first) and panel.sliders.sliders[0].value() == 0
    panel.sliders.undo_button.click()
    assert torch.equal(wait_shown(panel, qtbot), start) and not panel.sliders.undo_button.isEnabled()

    move(panel, qtbot, 2, 2.0)
    assert torch.equal(move(panel, qtbot, 0, -1.5), second)
    panel.sliders.reset_button.click()
    assert torch.equal(wait_shown(panel, qtbot), start) and panel.sliders.edits() == ()
    panel.sliders.undo_button.click()  # Reset can be undone
    assert torch.equal(wait_shown(panel, qtbot), second)

    panel.source.seed.setValue(5)  # another start, the same edit
    wait_shown(panel, qtbot)
    assert "seed 5" in panel.edit_view.start_caption.text() and panel.sliders.edits() == ((2, 2.0), (0, -1.5))
    assert not torch.equal(panel.edited.image, second)


def swap_of(panel, qtbot):
    wait_shown(panel, qtbot, SWAP)
    return panel.swap_view.result


def test_order_swap_shows_warped_edits_not_commuting_and_curvilinear_ones_commuting(panel, qtbot, checkpoints):
    load(panel, qtbot, checkpoints["warped"])
    assert panel.tabs.currentWidget() is panel.swap_view
    assert panel.swap_view.pair() == (0, 1)
    move(panel, qtbot, 1, 2.5)
    warped = swap_of(panel, qtbot)
    assert (warped.k, warped.l) == (0, 1) and warped.amounts == (MAX_SHIFT / 2, 2.5)  # slider 0 at 0: stand-in
    assert warped.mean_difference > 1e-3 and not torch.equal(warped.k_then_l, warped.l_then_k)
    assert "half its range" in panel.swap_view.amounts.text()
    assert f"{warped.mean_difference:.4f}" in panel.swap_view.caption.text()
    assert "the order matters" in panel.swap_view.caption.text()

    load(panel, qtbot, checkpoints["curvilinear"])
    curvilinear = swap_of(panel, qtbot)
    assert curvilinear.mean_difference < 1e-6 and "they commute" in panel.swap_view.caption.text()
    assert panel.swap_view.difference.has_image


def test_exported_recipe_replays_to_the_image_on_show(panel, qtbot, checkpoints, tmp_path):
    from PIL import Image

    name = load(panel, qtbot, checkpoints["warped"])
    panel.source.seed.setValue(7)
    move(panel, qtbot, 3, 1.25)
    shown = move(panel, qtbot, 1, -2.0)
    recipe_path = panel.export_recipe(tmp_path / "edit.json")
    png = panel.export_png(tmp_path / "edit.png")

    recipe = EditRecipe.load(recipe_path)
    assert recipe.seed == 7 and recipe.z is None and recipe.method == "warped"
    assert recipe.edits == [(3, 1.25), (1, -2.0)] and recipe.checkpoint == str(checkpoints["warped"])
    editor = panel.studio.models.get(name).module
    assert torch.equal(to_uint8(replay(recipe, editor))[0], shown)
    assert np.array_equal(np.asarray(Image.open(png)), shown.permute(1, 2, 0).numpy())

    panel.sliders.reset_button.click()
    panel.source.seed.setValue(8)
    wait_shown(panel, qtbot)
    assert panel.open_recipe(recipe_path)
    assert torch.equal(wait_shown(panel, qtbot), shown) and panel.sliders.edits() == ((3, 1.25), (1, -2.0))
    assert panel.source.seed.value() == 7

    recipe.checkpoint_sha256 = "0" * 64  # made with another version of that file
    other = recipe.save(tmp_path / "other.json")
    assert not panel.open_recipe(other)
    assert "other.json" in panel.alert.text() and "SHA-256 differs" in panel.alert.text()
    (tmp_path / "junk.json").write_text("{not json")
    panel.files_dropped([tmp_path / "junk.json"])
    assert "junk.json" in panel.alert.text() and torch.equal(panel.edited.image, shown)


def test_a_corrupt_dropped_file_is_named_and_an_image_becomes_the_start(panel, qtbot, checkpoints, tmp_path):
    from PIL import Image

    name = load(panel, qtbot, checkpoints["curvilinear"])
    move(panel, qtbot, 0, 1.0)
    before = panel.edited
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    panel.files_dropped([broken])
    assert "broken.png" in panel.alert.text() and not panel.alert.isHidden()
    assert "broken.png" in panel.studio.window.statusBar().currentMessage()
    assert panel.edited is before and panel.source.job_row.isHidden() and "seed 0" in panel.source.current.text()

    square = tmp_path / "square.png"
    Image.fromarray(np.full((40, 40, 3), (200, 60, 30), np.uint8)).save(square)
    jobs = SignalRecorder(panel.studio.jobs, "finished")
    panel.files_dropped([square])
    assert not panel.source.job_row.isHidden()  # progress and Cancel while z is found
    jobs.wait(qtbot, "finished", timeout=30_000)
    wait_shown(panel, qtbot)
    assert panel.alert.isHidden() and "square.png" in panel.source.current.text()
    assert "optimised z, RMS" in panel.source.current.text() and panel.source.job_row.isHidden()
    assert panel.edited.edits == ((0, 1.0),) and panel.shown_start.label == "square.png"

    recipe = EditRecipe.load(panel.export_recipe(tmp_path / "image.json"))  # an image's z is stored as is
    assert recipe.seed is None and len(recipe.z) == NZ
    assert torch.equal(to_uint8(replay(recipe, panel.studio.models.get(name).module))[0], panel.edited.image)


def test_a_training_image_becomes_the_start(panel, qtbot, checkpoints):
    load(panel, qtbot, checkpoints["linear"])
    qtbot.waitUntil(lambda: panel.source.index_button.isEnabled(), timeout=20_000)
    assert panel.source.index.maximum() == 47
    panel.source.index.setValue(5)
    panel.source.index_button.click()
    panel.source.cancel_button.click()  # changed our mind: the start stays
    qtbot.waitUntil(lambda: panel.source.job_row.isHidden(), timeout=20_000)
    assert "cancelled" in panel.studio.window.statusBar().currentMessage()
    assert "seed 0" in panel.source.current.text()
    panel.source.index_button.click()
    qtbot.waitUntil(lambda: "tiny_shapes #5" in panel.source.current.text(), timeout=30_000)
    wait_shown(panel, qtbot)
    assert panel.shown_start.label == "tiny_shapes #5" and panel.shown_start.seed is None


def copy_checkpoint(path, folder):
    folder.mkdir(parents=True)
    return shutil.copy(path, folder / "last.safetensors")


def test_factors_json_names_the_sliders_and_a_broken_one_is_named(panel, qtbot, checkpoints, tmp_path):
    path = copy_checkpoint(checkpoints["curvilinear"], tmp_path / "named")
    load(panel, qtbot, path)
    assert panel.sliders.labels() == [f"direction {k}" for k in range(K)]
    entries = [{"factor": "hue", "effect": 0.42}, {"factor": None}, {"factor": "scale", "effect": 0.2},
               {"factor": "hue", "effect": 0.1}]
    (tmp_path / "named" / "factors.json").write_text(json.dumps({"directions": entries}))  # the evaluation ends
    qtbot.waitUntil(lambda: panel.sliders.labels()[2] == "scale", timeout=10_000)
    names = [label.text() for label in panel.sliders.names]
    assert names == ["hue #0", "direction 1", "scale", "hue #3"]
    assert "effect 0.42" in panel.sliders.names[0].toolTip()
    assert panel.swap_view.first.itemText(2) == "scale #2" and panel.swap_view.first.itemText(3) == "hue #3"

    broken = copy_checkpoint(checkpoints["curvilinear"], tmp_path / "broken")
    (tmp_path / "broken" / "factors.json").write_text('{"directions": [{"factor": "hue"}]}')
    load(panel, qtbot, broken)
    assert panel.sliders.labels() == [f"direction {k}" for k in range(K)]
    assert "factors.json" in panel.sliders.problem.text() and not panel.sliders.problem.isHidden()


def test_three_methods_side_by_side_match_directions_by_factor(panel, qtbot, checkpoints, tmp_path):
    paths = {method: copy_checkpoint(path, tmp_path / method) for method, path in checkpoints.items()}
    factors = {"linear": ["scale", "hue", None, "x"], "curvilinear": ["hue", "scale", "x", None]}
    for method, names in factors.items():
        (tmp_path / method / "factors.json").write_text(json.dumps({"directions": [{"factor": f} for f in names]}))
    load(panel, qtbot, paths["linear"])
    current = load(panel, qtbot, paths["curvilinear"])
    move(panel, qtbot, 0, 2.0)  # hue: linear's #1, warped's #0 (no names: by index)
    panel.tabs.setCurrentWidget(panel.methods_view)
    view = panel.methods_view
    for method in ("linear", "curvilinear"):
        wait_shown(panel, qtbot, METHOD + method)
    assert sorted(view.filled()) == ["curvilinear", "linear"]
    assert "no warped model of this generator" in view.views["warped"].text()
    assert "hue → #1" in view.captions["linear"].text() and "#1 +2.00" in view.captions["linear"].text()
    assert "(edited)" in view.titles["curvilinear"].text()
    assert torch.equal(view.images["curvilinear"], panel.edited.image)  # the edited model's own column

    load(panel, qtbot, paths["warped"])  # now the warped one is edited, and all three are there
    move(panel, qtbot, 0, 2.0)
    for method in ("linear", "warped", "curvilinear"):
        wait_shown(panel, qtbot, METHOD + method)
    assert sorted(view.filled()) == ["curvilinear", "linear", "warped"]
    assert "(edited)" in view.titles["warped"].text()
    assert "#0 → #0" in view.captions["curvilinear"].text()  # warped has no names: by index
    assert panel.picker.current_name() != current


def test_a_published_editor_without_a_checkpoint_edits_and_replays_its_recipe(panel, qtbot, tmp_path):
    from studio.ml.models.dcgan import Generator
    from studio.ml.models.directions import WarpedDirections
    from studio.ml.models.latent_editor import LatentEditor

    torch.manual_seed(1)
    generator = Generator(NZ, 8, 3, SIZE).eval()
    with torch.no_grad():
        generator.main[-2].weight.mul_(2000.0)  # an untrained generator's gray, made visible
    editor = LatentEditor(generator, WarpedDirections(NZ, 3, dipoles=2)).eval().requires_grad_(False)
    meta = {"kind": "directions", "config": {"method": "warped", "directions": 3, "max_shift": 2.0}, "step": 5}
    panel.studio.models.publish("live", editor, meta)  # as a training run publishes its snapshots
    qtbot.waitUntil(lambda: panel.picker.current_name() == "live", timeout=5000)
    start = wait_shown(panel, qtbot)
    assert [slider.maximum() for slider in panel.sliders.sliders] == [2.0] * 3
    assert not panel.source.index_button.isEnabled()  # no training data known
    edited = move(panel, qtbot, 2, 1.5)
    assert not torch.equal(edited, start)

    panel.studio.models.publish("live", editor, dict(meta, step=6))  # a newer snapshot keeps the edit
    assert torch.equal(wait_shown(panel, qtbot), edited) and panel.sliders.edits() == ((2, 1.5),)

    recipe_path = panel.export_recipe(tmp_path / "live.json")
    recipe = EditRecipe.load(recipe_path)
    assert recipe.checkpoint == "" and recipe.checkpoint_sha256 == "" and recipe.seed == 0
    panel.sliders.reset_button.click()
    wait_shown(panel, qtbot)
    assert panel.open_recipe(recipe_path) and torch.equal(wait_shown(panel, qtbot), edited)

    panel.tabs.setCurrentWidget(panel.methods_view)
    wait_shown(panel, qtbot, METHOD + "warped")
    assert panel.methods_view.filled() == ["warped"]
    assert "no linear model" in panel.methods_view.views["linear"].text()


def test_a_recipe_of_a_model_not_loaded_loads_its_checkpoint_and_replays(panel, qtbot, checkpoints, tmp_path):
    from studio.ml.analysis.edit_recipe import file_sha256

    path = checkpoints["curvilinear"]
    recipe = EditRecipe(str(path), file_sha256(path), "curvilinear", [(1, 1.5), (3, -0.75)], seed=4)
    assert panel.open_recipe(recipe.save(tmp_path / "made.json"))  # no model yet: its checkpoint loads first
    qtbot.waitUntil(lambda: panel.picker.current_name() == model_name_for(path, "directions"), timeout=20_000)
    shown = wait_shown(panel, qtbot)
    assert panel.sliders.edits() == ((1, 1.5), (3, -0.75)) and panel.source.seed.value() == 4
    editor = panel.studio.models.get(panel.picker.current_name()).module
    assert torch.equal(to_uint8(replay(recipe, editor))[0], shown)
