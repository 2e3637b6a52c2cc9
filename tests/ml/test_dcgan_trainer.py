import math

import pytest
import torch

from studio.ml.checkpoints import CheckpointError, load_checkpoint
from studio.ml.data.shapes import make_shapes
from studio.ml.training.dcgan import DCGANTrainer
from studio.ml.training.run import NonFiniteLoss, RunSettings, TrainingRun, read_metrics_log

CONFIG = {"image_size": 32, "channels": 3, "nz": 16, "ngf": 8, "ndf": 8, "batch_size": 8, "lr": 2e-4, "beta1": 0.5}


@pytest.fixture(scope="module")
def data():
    return make_shapes(64, 32, seed=0)


def trainer(data, seed=0, **overrides):
    return DCGANTrainer(CONFIG | overrides, data, "cpu", seed)


def test_same_seed_same_losses(data):
    a, b = trainer(data), trainer(data)
    assert [a.step() for _ in range(3)] == [b.step() for _ in range(3)]
    assert trainer(data, seed=1).step() != trainer(data, seed=0).step()


def test_resume_is_exact(data, tmp_path):
    from studio.ml.training.run import checkpoint_meta
    from studio.ml.checkpoints import save_checkpoint

    original = trainer(data)
    for _ in range(4):
        original.step()
    path = save_checkpoint(tmp_path / "c.safetensors", original.state_tensors(), checkpoint_meta(original, {}, {}))
    expected = [original.step() for _ in range(3)]
    restored = trainer(data, seed=99)  # a different seed: everything must come from the checkpoint
    ckpt = load_checkpoint(path)
    restored.load_state(ckpt.tensors, ckpt.meta["extra"])
    assert restored.steps_done == 4
    assert [restored.step() for _ in range(3)] == expected
    assert all(torch.equal(p, q) for p, q in zip(original.G.parameters(), restored.G.parameters()))


def test_wrong_architecture_is_explained(data, tmp_path):
    from studio.ml.checkpoints import save_checkpoint
    from studio.ml.training.run import checkpoint_meta

    small = trainer(data)
    path = save_checkpoint(tmp_path / "c.safetensors", small.state_tensors(), checkpoint_meta(small, {}, {}))
    ckpt = load_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"c\.safetensors.*G\.main\.0\.weight: checkpoint has \(16, 32, 4, 4\), model expects \(32, 32, 4, 4\)"):
        trainer(data, nz=32).load_state(ckpt.tensors, ckpt.meta["extra"], source=str(path))


def test_sample_grid_and_inference_copy(data):
    t = trainer(data)
    grid = t.sample_grid()
    assert grid.shape == (64, 3, 32, 32) and grid.dtype == torch.uint8
    assert t.G.training  # restored to train mode
    copy = t.inference_model()
    t.step()
    assert not copy.training
    assert not torch.equal(copy.main[0].weight, t.G.main[0].weight)  # a copy, not shared storage


def test_dataset_mismatch_is_refused(data):
    with pytest.raises(ValueError, match="64px"):
        trainer(data, image_size=64)


class NaNAt:
    def __init__(self, inner, at):
        self.inner, self.at = inner, at

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def step(self):
        losses = self.inner.step()
        return losses | ({"loss_G": math.nan} if self.inner.steps_done >= self.at else {})


def test_run_writes_log_samples_checkpoints_and_stops_on_nan(data, tmp_path):
    run = TrainingRun(NaNAt(trainer(data), at=8), RunSettings(tmp_path, 20, sample_every=3, checkpoint_every=5), {"name": "shapes"})
    run.initial_samples()
    reports = []
    with pytest.raises(NonFiniteLoss, match=r"loss_G=nan at step 8.*last\.safetensors \(step 5\)"):
        while not run.done:
            reports.append(run.advance())
    assert run.close() is None  # no checkpoint of diverged weights
    assert [r.step for r in reports if r.checkpoint] == [5]
    assert load_checkpoint(tmp_path / "last.safetensors").meta["step"] == 5
    assert [r["step"] for r in read_metrics_log(tmp_path / "metrics.jsonl")] == list(range(1, 8))
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "step_000000.png", "step_000003.png", "step_000006.png"]


def test_metrics_log_tolerates_a_cut_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss_G": 1.0}\n{"step": 2, "loss_G": 0.9}\n{"step": 3, "lo')
    assert [r["step"] for r in read_metrics_log(path)] == [1, 2]
