import pytest
import torch

from conftest import one_square
from studio.ml.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from studio.ml.data.base import to_signed_float
from studio.ml.training.base import Trainer
from studio.ml.training.dcgan import DCGAN_PARAMS, DCGANTrainer
from studio.ml.training.run import checkpoint_meta

LOSS_KEYS = {"loss_D", "loss_G", "D_x", "D_G_z"}


def steps(trainer, n):
    return [trainer.step() for _ in range(n)]


def test_is_a_trainer_and_reports_its_losses(tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    assert isinstance(trainer, Trainer) and trainer.kind == "dcgan"
    losses = trainer.step()
    assert set(losses) == LOSS_KEYS and all(isinstance(v, float) for v in losses.values())
    assert 0 < losses["D_x"] < 1 and 0 < losses["D_G_z"] < 1 and losses["loss_D"] > 0
    assert trainer.steps_done == 1


def test_same_seed_same_losses_whatever_the_global_rng(tiny_config, shapes32):
    torch.manual_seed(1)
    a = DCGANTrainer(tiny_config, shapes32, "cpu", seed=7)
    torch.manual_seed(2)
    b = DCGANTrainer(tiny_config, shapes32, "cpu", seed=7)
    torch.manual_seed(3)
    assert steps(a, 4) == steps(b, 4)
    for net_a, net_b in ((a.G, b.G), (a.D, b.D)):  # D's state includes spectral norm's vectors
        assert all(torch.equal(p, q) for p, q in zip(net_a.state_dict().values(), net_b.state_dict().values()))
    global_state = torch.get_rng_state()
    DCGANTrainer(tiny_config, shapes32, "cpu", seed=7)
    assert torch.equal(torch.get_rng_state(), global_state)  # building a trainer leaves it alone
    other = DCGANTrainer(tiny_config, shapes32, "cpu", seed=8)
    assert other.step() != DCGANTrainer(tiny_config, shapes32, "cpu", seed=7).step()


def test_resume_from_a_checkpoint_is_exact(tiny_config, shapes32, tmp_path):
    original = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    steps(original, 5)
    path = save_checkpoint(tmp_path / "c.safetensors", original.state_tensors(), checkpoint_meta(original, {}, {}))
    expected = steps(original, 5)

    restored = DCGANTrainer(tiny_config, shapes32, "cpu", seed=99)  # everything must come from the file
    checkpoint = load_checkpoint(path)
    restored.load_state(checkpoint.tensors, checkpoint.meta["extra"], source=path)
    assert restored.steps_done == 5
    assert steps(restored, 5) == expected
    after_a, after_b = original.state_tensors(), restored.state_tensors()
    assert after_a.keys() == after_b.keys()
    assert all(torch.equal(after_a[k], after_b[k]) for k in after_a)  # weights, Adam moments, z, RNG
    assert torch.equal(original.sample_grid(), restored.sample_grid())


def test_state_has_the_documented_parts(tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    trainer.step()
    keys = trainer.state_tensors().keys()
    for prefix in ("G.", "D.", "optim_G.", "optim_D."):
        assert any(k.startswith(prefix) for k in keys), prefix
    assert {"fixed_z", "rng"} <= keys
    assert trainer.state_tensors()["fixed_z"].shape == (64, 16)


def test_wrong_architecture_is_explained(tiny_config, shapes32, tmp_path):
    small = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    path = save_checkpoint(tmp_path / "c.safetensors", small.state_tensors(), checkpoint_meta(small, {}, {}))
    checkpoint = load_checkpoint(path)
    bigger = DCGANTrainer(tiny_config | {"nz": 32}, shapes32, "cpu", seed=0)
    with pytest.raises(CheckpointError, match=r"c\.safetensors does not fit this model.*"
                       r"G\.main\.0\.weight: checkpoint has \(16, 32, 4, 4\), model expects \(32, 32, 4, 4\)"):
        bigger.load_state(checkpoint.tensors, checkpoint.meta["extra"], source=path)
    incomplete = {k: v for k, v in checkpoint.tensors.items() if k != "rng"}
    with pytest.raises(CheckpointError, match="incomplete: no rng"):
        small.load_state(incomplete, checkpoint.meta["extra"], source=path)


def test_sample_grid_and_inference_copy(tiny_config, shapes32):
    trainer = DCGANTrainer(tiny_config, shapes32, "cpu", seed=0)
    grid = trainer.sample_grid()
    assert grid.shape == (64, 3, 32, 32) and grid.dtype == torch.uint8 and grid.device.type == "cpu"
    assert trainer.G.training  # back in train mode
    assert torch.equal(trainer.sample_grid(), grid)  # fixed z, no RNG use, no BN update
    copy = trainer.inference_model()
    assert not copy.training and not any(p.requires_grad for p in copy.parameters())
    pointers = {p.data_ptr() for p in trainer.G.state_dict().values()}
    assert not pointers & {p.data_ptr() for p in copy.state_dict().values()}  # no shared storage
    before = copy.main[0].weight.clone()
    trainer.step()
    assert torch.equal(copy.main[0].weight, before)


def test_config_is_checked_and_completed(tiny_config, shapes32):
    with pytest.raises(ValueError, match="3-channel 32x32 images.*configured for 3-channel 64x64"):
        DCGANTrainer(tiny_config | {"image_size": 64}, shapes32, "cpu", 0)
    with pytest.raises(ValueError, match="learning_rate"):
        DCGANTrainer(tiny_config | {"learning_rate": 1.0}, shapes32, "cpu", 0)
    trainer = DCGANTrainer({"image_size": 32, "channels": 3}, shapes32, "cpu", 0)
    assert {k: trainer.config[k] for k in DCGAN_PARAMS} == {
        "nz": 100, "ngf": 64, "ndf": 64, "batch_size": 64, "lr": 2e-4, "beta1": 0.0, "beta2": 0.9,
        "d_norm": "spectral", "g_upsample": "resize", "real_label": 0.9}
    assert trainer.opt_G.param_groups[0]["betas"] == (0.0, 0.9)


def test_params_describe_the_config():
    assert set(DCGAN_PARAMS) == {"nz", "ngf", "ndf", "batch_size", "lr", "beta1", "beta2", "d_norm", "g_upsample",
                                 "real_label"}
    for name, param in DCGAN_PARAMS.items():
        assert param.help, name
        if param.choices:
            assert param.default in param.choices, name
        else:
            assert param.minimum <= param.default <= param.maximum, name


def test_it_learns_a_single_image():
    """On one repeated image, the fixed-z samples move toward it: their mean squared distance to
    it falls to well under half within 200 steps (0.14-0.25 of the start on 8 seeds tried)."""
    data = one_square(32, 3)
    target = to_signed_float(data.images[:1])
    config = {"image_size": 32, "channels": 3, "nz": 16, "ngf": 16, "ndf": 16, "batch_size": 16, "lr": 2e-3}
    trainer = DCGANTrainer(config, data, "cpu", seed=0)

    def distance():
        return (to_signed_float(trainer.sample_grid()) - target).square().mean().item()

    start = distance()
    steps(trainer, 200)
    assert distance() < 0.4 * start
