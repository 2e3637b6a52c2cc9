import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save, save_file
from torch import nn

import studio.ml.checkpoints as ckpt
from studio.ml.checkpoints import (
    CheckpointError, load_checkpoint, load_module_state, optimizer_from_tensors, optimizer_to_tensors,
    read_checkpoint_meta, save_checkpoint)

META = {"kind": "x", "step": 7, "nested": {"k": [1, 2.5, None, "s"]}}


def tensors():
    return {"f32": torch.randn(3, 4), "i64": torch.arange(5), "f16": torch.randn(2).half(),
            "u8": torch.tensor([0, 255], dtype=torch.uint8), "scalar": torch.tensor(3.0)}


def test_round_trip(tmp_path):
    original = tensors()
    path = save_checkpoint(tmp_path / "sub" / "c.safetensors", original, META)
    assert path == tmp_path / "sub" / "c.safetensors"
    loaded = load_checkpoint(path)
    assert loaded.meta == META and read_checkpoint_meta(path) == META and loaded.path == path
    assert loaded.tensors.keys() == original.keys()
    for key, value in original.items():
        assert loaded.tensors[key].dtype == value.dtype and torch.equal(loaded.tensors[key], value)


def test_views_and_shared_storage_are_saved(tmp_path):
    base = torch.randn(4, 4)
    path = save_checkpoint(tmp_path / "c.safetensors", {"w": base, "t": base.t(), "same": base, "row": base[1]},
                           {"path": Path("/x/y")})
    loaded = load_checkpoint(path)
    assert torch.equal(loaded.tensors["t"], base.t()) and torch.equal(loaded.tensors["same"], base)
    assert torch.equal(loaded.tensors["row"], base[1])
    assert loaded.meta == {"path": "/x/y"}  # paths are stored as strings


def test_truncated_file_is_refused_and_named(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.randn(1000)}, {"k": 1})
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 40, 5, 0):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"c\.safetensors.*(truncated|not a safetensors)"):
            load_checkpoint(path)
        with pytest.raises(CheckpointError, match=r"c\.safetensors"):
            read_checkpoint_meta(path)


def test_corrupt_header_is_refused(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.randn(10)}, {"k": 1})
    data = bytearray(path.read_bytes())
    data[12:20] = b"\xff" * 8  # inside the JSON header
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"c\.safetensors.*corrupt"):
        load_checkpoint(path)


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    sentinel: Path

    def __reduce__(self):
        return (open, (str(self.sentinel), "w"))


@pytest.mark.parametrize("how", ["torch.save", "legacy torch.save", "pickle 2", "pickle 5"])
def test_pickles_are_refused_without_running_them(tmp_path, monkeypatch, how):
    Payload.sentinel = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"  # the extension lies
    if how == "torch.save":
        torch.save({"x": Payload()}, path)
    elif how == "legacy torch.save":
        torch.save({"x": Payload()}, path, _use_new_zipfile_serialization=False)
    else:
        path.write_bytes(pickle.dumps(Payload(), protocol=int(how[-1])))
    assert not Payload.sentinel.exists()

    def forbidden(*args, **kwargs):
        raise AssertionError("a pickle loader was called")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    refusal = r"model\.safetensors is a pickle \(torch\.save\) file.*cannot run code"
    for reader in (load_checkpoint, read_checkpoint_meta):
        with pytest.raises(CheckpointError, match=refusal):
            reader(path)
    assert not Payload.sentinel.exists()


def test_a_header_that_starts_like_a_pickle_still_loads(tmp_path):
    """A safetensors header of 640 bytes starts with 0x80 0x02, the bytes of a protocol-2 pickle."""
    def header_length(pad: int) -> int:  # in memory: quicker than writing files
        data = save({"a": torch.ones(2)}, metadata={"latent_studio": json.dumps({"pad": "x" * pad})})
        return struct.unpack("<Q", data[:8])[0]

    pad = next(p for p in range(1000) if header_length(p) == 0x280)
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.ones(2)}, {"pad": "x" * pad})
    assert path.read_bytes()[:2] == b"\x80\x02"
    assert load_checkpoint(path).meta["pad"] == "x" * pad


def test_foreign_safetensors_file(tmp_path):
    save_file({"a": torch.ones(2)}, tmp_path / "other.safetensors")
    with pytest.raises(CheckpointError, match=r"other\.safetensors .*not a latent-studio checkpoint"):
        load_checkpoint(tmp_path / "other.safetensors")
    save_file({"a": torch.ones(2)}, tmp_path / "bad_meta.safetensors", metadata={"latent_studio": "{not json"})
    with pytest.raises(CheckpointError, match=r"bad_meta\.safetensors has corrupt latent-studio metadata"):
        read_checkpoint_meta(tmp_path / "bad_meta.safetensors")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match=r"nope\.safetensors does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors")
    with pytest.raises(CheckpointError, match="is not a file"):
        read_checkpoint_meta(tmp_path)


def test_failed_write_leaves_the_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.safetensors", {"a": torch.zeros(300)}, {"step": 1})
    before = path.read_bytes()
    real_save_file = ckpt.save_file

    def half_written(tensors, filename, metadata=None):
        real_save_file(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as f:  # the disk fills up halfway through
            f.truncate(os.path.getsize(filename) // 2)
        raise OSError("No space left on device")

    monkeypatch.setattr(ckpt, "save_file", half_written)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(path, {"a": torch.ones(300)}, {"step": 2})
    monkeypatch.setattr(ckpt, "save_file", real_save_file)

    def rename_fails(src, dst):
        raise PermissionError("file is locked")

    monkeypatch.setattr(ckpt.os, "replace", rename_fails)
    with pytest.raises(PermissionError):
        save_checkpoint(path, {"a": torch.ones(300)}, {"step": 3})
    assert path.read_bytes() == before and read_checkpoint_meta(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


def test_unserialisable_meta_fails_before_touching_the_disk(tmp_path):
    with pytest.raises(TypeError, match="object"):
        save_checkpoint(tmp_path / "c.safetensors", {"a": torch.ones(1)}, {"bad": object()})
    assert list(tmp_path.iterdir()) == []


def net(width):
    return nn.Sequential(nn.Linear(4, width), nn.BatchNorm1d(width), nn.Linear(width, 2))


def test_module_state_round_trip_and_mismatch_messages():
    source, target = net(8), net(8)
    tensors = {f"M.{k}": v for k, v in source.state_dict().items()} | {"other.x": torch.ones(1)}
    load_module_state(target, tensors, "M.", "run/c.safetensors")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))

    with pytest.raises(CheckpointError) as info:
        load_module_state(net(16), tensors, "M.", "run/c.safetensors")
    message = str(info.value)
    assert message.startswith("run/c.safetensors does not fit this model")
    assert "M.0.weight: checkpoint has (8, 4), model expects (16, 4)" in message
    assert "another configuration" in message and "and 3 more" in message  # 7 problems, 4 listed

    del tensors["M.2.bias"]
    tensors["M.9.weight"] = torch.ones(1)
    with pytest.raises(CheckpointError, match=r"M\.2\.bias: missing.*M\.9\.weight: in the checkpoint but not"):
        load_module_state(net(8), tensors, "M.", "c.safetensors")


def test_optimizer_state_survives_tensors_and_json_exactly():
    torch.manual_seed(0)
    model = net(8)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, betas=(0.5, 0.999))
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 4)).square().mean().backward()
        opt.step()
    tensors, extra = optimizer_to_tensors(opt, "opt.")
    assert any(key.endswith("exp_avg_sq") for key in tensors)
    extra = json.loads(json.dumps(extra))  # it travels as JSON

    clone = net(8)
    clone.load_state_dict(model.state_dict())
    restored = torch.optim.Adam(clone.parameters(), lr=1.0)
    optimizer_from_tensors(restored, tensors, "opt.", extra)
    assert restored.param_groups[0]["lr"] == 3e-4 and tuple(restored.param_groups[0]["betas"]) == (0.5, 0.999)
    batch = torch.randn(8, 4)
    for m, o in ((model, opt), (clone, restored)):
        o.zero_grad()
        m(batch).square().mean().backward()
        o.step()
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), clone.parameters()))

    with pytest.raises(CheckpointError, match="c.safetensors: optimiser state"):
        optimizer_from_tensors(torch.optim.Adam(net(8)[0].parameters()), tensors, "opt.", extra, "c.safetensors")
