import pickle

import pytest
import torch

import studio.ml.checkpoints as ckpt
from studio.ml.checkpoints import CheckpointError, load_checkpoint, read_checkpoint_meta, save_checkpoint


def test_round_trip(tmp_path):
    tensors = {"a": torch.randn(3, 4), "b": torch.arange(5)}
    path = save_checkpoint(tmp_path / "c.safetensors", tensors, {"kind": "x", "step": 7, "nested": {"k": [1, 2]}})
    loaded = load_checkpoint(path)
    assert loaded.meta == {"kind": "x", "step": 7, "nested": {"k": [1, 2]}}
    assert all(torch.equal(loaded.tensors[k], v) for k, v in tensors.items())
    assert read_checkpoint_meta(path)["step"] == 7


def test_shared_and_strided_tensors_are_saved(tmp_path):
    base = torch.randn(4, 4)
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": base, "t": base.t()}, {})
    assert torch.equal(load_checkpoint(path).tensors["t"], base.t())


def test_truncated_file_is_named(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.randn(1000)}, {"k": 1})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="c.safetensors.*truncated"):
        load_checkpoint(path)


def test_pickle_is_refused_without_running_it(tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(sentinel), "w"))

    for name, write in (("model.pt", lambda p: torch.save({"x": Payload()}, p)),
                        ("raw.pkl", lambda p: p.write_bytes(pickle.dumps(Payload())))):
        path = tmp_path / name
        write(path)
        with pytest.raises(CheckpointError, match="pickle"):
            load_checkpoint(path)
    assert not sentinel.exists()


def test_foreign_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    save_file({"a": torch.ones(2)}, tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError, match="not a latent-studio checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.zeros(3)}, {"step": 1})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "save_file", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"a": torch.ones(3)}, {"step": 2})
    assert read_checkpoint_meta(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]  # no temp file left
