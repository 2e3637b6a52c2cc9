"""The wave GAN (seed paper 002): 1-D networks on raw audio and their trainer, on tiny bass loops."""


import pytest
import torch
from torch import nn

from studio.ml.checkpoints import load_checkpoint, save_checkpoint
from studio.ml.data.audio import make_bass_loops
from studio.ml.models.wavegan import D_NORMS, WaveDiscriminator, WaveGenerator, split_length
from studio.ml.training.base import Trainer
from studio.ml.training.run import checkpoint_meta
from studio.ml.training.wavegan import WAVEGAN_PARAMS, WaveGANTrainer

RATE = 512  # just above twice the loops' highest note (220 Hz): short clips, fast networks
TINY = {"nz": 16, "ngf": 8, "ndf": 8, "max_width": 32, "batch_size": 8}


@pytest.fixture(scope="module")
def loops():
    return make_bass_loops(4, RATE, 2.0, seed=0)  # 1024 = 16 * 2**6 samples


def tiny_config(clips, **overrides) -> dict:
    return TINY | clips.setup_values() | overrides


def steps(trainer, n):
    return [trainer.step() for _ in range(n)]


# -- networks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("samples", "base", "layers"), [
    (7680, 15, 9),  # 2 s at 3840 Hz
    (4096, 16, 8),  # 2 s at the paper's 2048 Hz
    (1024, 16, 6),
    (44, 11, 2),
    (16, 8, 1),  # a length of at most 16 still gets one layer
])
@pytest.mark.parametrize("norm", D_NORMS)
def test_shapes_for_any_base_times_a_power_of_two(samples, base, layers, norm):
    assert split_length(samples) == (base, layers)
    G, D = WaveGenerator(nz=7, ngf=4, samples=samples, max_width=16), WaveDiscriminator(4, samples, norm, 16)
    assert sum(isinstance(m, nn.ConvTranspose1d) for m in G.modules()) == layers
    assert sum(isinstance(m, nn.Conv1d) for m in D.modules()) == layers
    clips = G(torch.randn(3, 7))
    assert clips.shape == (3, 1, samples)
    assert clips.min() >= -1 and clips.max() <= 1  # tanh
    assert D(clips).shape == (3,)


@pytest.mark.parametrize("samples", [4410, 17, 6, 2 * 33 * 64])  # odd factor 2205; odd 17; too short; 33 > 32
def test_lengths_it_cannot_make_are_refused(samples):
    with pytest.raises(ValueError, match=f"clips of {samples} samples.*base \\* 2\\*\\*n"):
        WaveGenerator(samples=samples)
    with pytest.raises(ValueError, match=f"clips of {samples} samples"):
        WaveDiscriminator(samples=samples)


def test_widths_double_toward_the_short_end_up_to_the_cap():
    G = WaveGenerator(nz=100, ngf=16, samples=7680, max_width=128)
    convs = [(m.in_channels, m.out_channels, m.kernel_size[0], m.stride[0])
             for m in G.modules() if isinstance(m, nn.ConvTranspose1d)]
    assert convs == [(128, 128, 5, 2)] * 5 + [(128, 64, 5, 2), (64, 32, 5, 2), (32, 16, 5, 2), (16, 1, 5, 2)]
    assert G.lift.out_features == 128 * 15
    D = WaveDiscriminator(16, 7680, "batch", 128)
    assert [m.out_channels for m in D.modules() if isinstance(m, nn.Conv1d)] == [16, 32, 64, 128, 128, 128, 128, 128,
                                                                                 128]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in D.modules()) == 8  # not on the first conv, as DCGAN
    with pytest.raises(ValueError, match="max_width"):
        WaveGenerator(samples=1024, max_width=1024)
    with pytest.raises(ValueError, match="norm"):
        WaveDiscriminator(samples=1024, norm="layer")


# -- trainer ----------------------------------------------------------------------------------
def test_is_a_trainer_and_reports_its_losses(loops):
    trainer = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=0)
    assert isinstance(trainer, Trainer) and trainer.kind == "wavegan"
    losses = trainer.step()
    assert set(losses) == {"loss_D", "loss_G", "D_x", "D_G_z"} and all(isinstance(v, float) for v in losses.values())
    assert 0 < losses["D_x"] < 1 and 0 < losses["D_G_z"] < 1 and losses["loss_D"] > 0
    assert trainer.steps_done == 1
    with torch.no_grad():  # what the player calls
        assert trainer.inference_model()(torch.randn(2, 16)).shape == (2, 1, loops.samples)


def test_same_seed_same_losses_other_seed_other_losses(loops):
    config = tiny_config(loops, d_norm="spectral")  # spectral norm's vectors come from the seed too
    torch.manual_seed(1)
    a = WaveGANTrainer(config, loops, "cpu", seed=3)
    torch.manual_seed(2)
    b = WaveGANTrainer(config, loops, "cpu", seed=3)
    assert steps(a, 3) == steps(b, 3)
    assert WaveGANTrainer(config, loops, "cpu", seed=4).step() != WaveGANTrainer(config, loops, "cpu", seed=3).step()


def test_resume_from_a_checkpoint_is_exact(loops, tmp_path):
    original = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=0)
    steps(original, 3)
    path = save_checkpoint(tmp_path / "w.safetensors", original.state_tensors(), checkpoint_meta(original, {}, {}))
    expected = steps(original, 3)

    restored = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=99)  # everything must come from the file
    checkpoint = load_checkpoint(path)
    restored.load_state(checkpoint.tensors, checkpoint.meta["extra"], source=path)
    assert restored.steps_done == 3
    assert steps(restored, 3) == expected
    after_a, after_b = original.state_tensors(), restored.state_tensors()
    assert after_a.keys() == after_b.keys()
    assert all(torch.equal(after_a[k], after_b[k]) for k in after_a)


def test_a_dataset_of_another_rate_or_length_is_refused(loops):
    other = make_bass_loops(4, 1024, 1.0, seed=0)  # the same 1024 samples, at another rate
    with pytest.raises(ValueError, match=r"'bass-loops' has clips of 1024 samples at 1024 Hz.*1024 samples at 512 Hz"):
        WaveGANTrainer(tiny_config(loops), other, "cpu", 0)
    with pytest.raises(ValueError, match="needs sample_rate, samples"):
        WaveGANTrainer(TINY, loops, "cpu", 0)


def test_params_describe_the_config(loops):
    assert set(loops.setup_values()) == set(WaveGANTrainer.setup_keys)  # the run setup fills them in
    trainer = WaveGANTrainer(loops.setup_values(), loops, "cpu", 0)
    assert {k: trainer.config[k] for k in WAVEGAN_PARAMS} == {k: p.default for k, p in WAVEGAN_PARAMS.items()}
    for name, param in WAVEGAN_PARAMS.items():
        assert param.help, name
        if param.choices:
            assert param.default in param.choices, name
        else:
            assert param.minimum <= param.default <= param.maximum, name


class Plays(nn.Module):
    """A stand-in generator whose fixed-z clips are the given waveforms, in turn."""

    def __init__(self, waveforms):
        super().__init__()
        self.waveforms = waveforms

    def forward(self, z):
        return self.waveforms[torch.arange(len(z)) % len(self.waveforms)].unsqueeze(1)


def test_sample_grid_is_a_fixed_picture_per_clip(loops):
    trainer = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=0)
    steps(trainer, 2)
    grid = trainer.sample_grid()
    assert grid.dtype == torch.uint8 and grid.ndim == 4 and grid.shape[:2] == (64, 1)
    assert grid.shape[2] > 8 and grid.shape[3] > 8
    assert trainer.G.training  # back in train mode
    assert torch.equal(trainer.sample_grid(), grid)  # fixed z, no RNG use, no BN update


def test_sample_grid_draws_constant_q_spectrograms_with_low_notes_at_the_bottom(loops):
    trainer = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=0)
    trainer.G = Plays(loops.waveforms)
    pictures = trainer.sample_grid()
    assert pictures.dtype == torch.uint8 and pictures.shape[:2] == (64, 1) and min(pictures.shape[2:]) > 8
    assert torch.equal(pictures[0], pictures[4]) and not torch.equal(pictures[0], pictures[1])
    rows = pictures.float().mean(dim=(0, 1, 3))
    half = len(rows) // 2
    assert rows[half:].mean() > rows[:half].mean() + 20  # bass: the bright rows are the low ones


def test_the_discriminator_learns_to_tell_the_loops_from_fakes(loops):
    """D's margin, mean D(x) - D(G(z)), grows from the first 10 steps to steps 51-60: by 0.27 to
    0.64 on 10 seeds tried (at lr 0 it stays within 0.001)."""
    trainer = WaveGANTrainer(tiny_config(loops), loops, "cpu", seed=0)
    margins = [losses["D_x"] - losses["D_G_z"] for losses in steps(trainer, 60)]
    assert sum(margins[-10:]) / 10 > sum(margins[:10]) / 10 + 0.2
