"""The U-Net and its autoencoder: the skip mask at inference and in the structure, training."""

import numpy as np
import pytest
import torch

from studio.ml.checkpoints import CheckpointError
from studio.ml.data.base import ImageDataset
from studio.ml.data.paired import PairedImages
from studio.ml.models.unet import UNet, parse_skips, skips_label
from studio.ml.training.unet import UNetTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # see tests/conftest.py


def off(*latents: int) -> tuple[bool, ...]:
    return tuple(i + 1 not in latents for i in range(5))


@pytest.fixture(scope="module")
def images():
    return torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1


def trained_like(model: UNet) -> UNet:
    """Random weights with non-trivial batch-norm statistics (a fresh model's are all 0/1)."""
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.3)
    model.train()
    model(torch.rand(8, model.channels, model.image_size, model.image_size) * 2 - 1)
    return model.eval()


@pytest.mark.parametrize("latent", [1, 2, 3, 4, 5])
def test_zeroing_a_latent_the_model_has_changes_the_output(images, latent):
    torch.manual_seed(0)
    model = trained_like(UNet(3, 32, 4))
    with torch.no_grad():
        full, zeroed = model(images), model(images, off(latent))
    assert (full - zeroed).abs().max() > 1e-3


def test_toggling_a_skip_the_model_was_trained_without_changes_nothing(images):
    torch.manual_seed(0)
    model = trained_like(UNet(3, 32, 4, skips=(2,)))
    with torch.no_grad():
        full = model(images)
        for latent in (1, 3, 4):
            assert torch.equal(model(images, off(latent)), full)
        assert not torch.equal(model(images, off(2)), full)


def test_the_autoencoder_is_the_same_network_without_skips(images):
    torch.manual_seed(0)
    ae, unet = UNet(3, 32, 4, skips=()), UNet(3, 32, 4)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(ae) < count(unet)
    assert [type(m) for m in ae.modules()] == [type(m) for m in unet.modules()]
    trained_like(ae)
    with torch.no_grad():
        assert torch.equal(ae(images, off(1, 2, 3, 4)), ae(images))
        assert not torch.equal(ae(images, off(5)), ae(images))


def test_latents_have_the_papers_sizes():
    latents = UNet(3, 64, 4).encode(torch.zeros(1, 3, 64, 64))
    assert [tuple(t.shape[-2:]) for t in latents] == [(32, 32), (16, 16), (8, 8), (4, 4), (2, 2)]


def test_bad_masks_and_sizes_are_refused(images):
    with pytest.raises(ValueError, match="5 flags"):
        UNet(3, 32, 4)(images, (True,) * 4)
    with pytest.raises(ValueError, match="multiple of 32"):
        UNet(3, 48, 4)


@pytest.mark.parametrize(("text", "skips", "label"), [
    ("1234", (1, 2, 3, 4), "U-Net"), ("none", (), "AE"), ("2", (2,), "Concat2"), ("12", (1, 2), "Concat1,2"),
])
def test_skip_sets_are_named_as_in_the_paper(text, skips, label):
    assert parse_skips(text) == skips
    assert skips_label(skips) == label


@pytest.mark.parametrize("text", ["5", "12x", "latent1"])
def test_bad_skip_sets_are_refused(text):
    with pytest.raises(ValueError, match="skip connections 1-4"):
        parse_skips(text)


def tiny_pairs(n: int = 40, size: int = 32) -> PairedImages:
    """Targets are the inputs mirrored and tinted: a translation a small U-Net learns quickly."""
    g = torch.Generator().manual_seed(0)
    blobs = torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=size, mode="bilinear")
    inputs = (blobs * 255).to(torch.uint8)
    targets = (blobs.flip(-1) * torch.tensor([1.0, 0.6, 0.3]).view(1, 3, 1, 1) * 255).to(torch.uint8)
    return PairedImages("tiny", inputs, targets, np.arange(n) % 5 == 4)


CONFIG = {"width": 8, "batch_size": 16, "image_size": 32, "channels": 3}


def test_training_lowers_train_and_test_mse():
    trainer = UNetTrainer(CONFIG, tiny_pairs(), "cpu", seed=0)
    first = trainer.step()
    for _ in range(80):
        last = trainer.step()
    assert last["loss_mse"] < 0.3 * first["loss_mse"]
    assert last["loss_test_mse"] < 0.5 * first["loss_test_mse"]


def test_training_resumes_exactly_from_its_state():
    pairs = tiny_pairs()
    a = UNetTrainer(CONFIG | {"skips": "2"}, pairs, "cpu", seed=3)
    for _ in range(3):
        a.step()
    b = UNetTrainer(CONFIG | {"skips": "2"}, pairs, "cpu", seed=99)
    b.load_state(a.state_tensors(), a.extra_state())
    assert b.steps_done == 3
    assert a.step() == b.step()


def test_a_checkpoint_of_another_skip_set_is_refused():
    pairs = tiny_pairs()
    unet = UNetTrainer(CONFIG, pairs, "cpu")
    ae = UNetTrainer(CONFIG | {"skips": "none"}, pairs, "cpu")
    with pytest.raises(CheckpointError, match="ae.safetensors"):
        ae.load_state(unet.state_tensors(), unet.extra_state(), source="ae.safetensors")


def test_the_sample_grid_shows_input_output_target_for_train_and_test_pairs():
    pairs = tiny_pairs()
    grid = UNetTrainer(CONFIG, pairs, "cpu").sample_grid()
    assert grid.shape == (36, 3, 32, 32) and grid.dtype == torch.uint8
    first_train = int(pairs.indices("train")[0])
    assert torch.equal(grid[0], pairs.inputs[first_train]) and torch.equal(grid[2], pairs.targets[first_train])
    first_test = int(pairs.indices("test")[0])
    assert torch.equal(grid[18], pairs.inputs[first_test])


def test_unpaired_data_is_refused_with_its_name():
    images = ImageDataset("shapes", torch.zeros(4, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match="'shapes' is not a paired dataset"):
        UNetTrainer(CONFIG, images, "cpu")


def test_the_inference_model_is_a_private_eval_copy(images):
    trainer = UNetTrainer(CONFIG, tiny_pairs(), "cpu")
    model = trainer.inference_model()
    before = model(images)
    trainer.step()
    assert not model.training and torch.equal(model(images), before)
    assert all(not p.requires_grad for p in model.parameters())


@pytest.mark.parametrize(("key", "value"), [("width", 2), ("batch_size", 1), ("lr", 2.0)])
def test_parameters_outside_their_range_are_refused_by_name(key, value):
    with pytest.raises(ValueError, match=f"unet {key} must be at least .* and at most"):
        UNetTrainer(CONFIG | {key: value}, tiny_pairs(), "cpu")
