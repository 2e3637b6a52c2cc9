"""Finding z for an image: optimising z for a GAN, the encoder mean for a VAE-GAN."""

import torch
from torch import nn

from studio.ml.analysis.inversion import find_latents, has_encoder, invert
from studio.ml.data.base import ImageDataset
from studio.ml.models.dcgan import Generator
from studio.ml.training.vaegan import VAEGANTrainer


class RandomDecoder(nn.Module):
    """A fixed random two-layer decoder z (8) -> 3x16x16 images in [-1, 1]: non-linear like a GAN's
    generator, and (unlike an untrained DCGAN, whose N(0, 0.02) init draws near-constant gray)
    its images change visibly with z."""

    nz = 8

    def __init__(self):
        super().__init__()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            self.net = nn.Sequential(nn.Linear(8, 64), nn.Tanh(), nn.Linear(64, 3 * 16 * 16), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(len(z), 3, 16, 16)


def tiny_generator() -> nn.Module:
    return RandomDecoder().eval().requires_grad_(False)


def rms(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).square().mean().sqrt() / 2).item()


def test_inverting_a_generated_image_reproduces_it():
    generator = tiny_generator()
    z_star = torch.randn(2, 8, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        target = generator(z_star)
        unrelated = generator(torch.randn(2, 8, generator=torch.Generator().manual_seed(6)))
    reports = []
    found = invert(generator, target, steps=100, restarts=3, progress=lambda d, t: reports.append((d, t)))
    assert found.method == "optimised" and found.z.shape == (2, 8) and not found.cancelled
    with torch.no_grad():
        again = generator(found.z)
    assert rms(again, target) < 0.1 * rms(unrelated, target), (rms(again, target), rms(unrelated, target))
    assert torch.allclose(found.error, ((again - target).square().flatten(1).mean(1).sqrt() / 2), atol=1e-5)
    assert reports[-1] == (100, 100) and len(reports) <= 51


def test_inversion_stops_when_cancelled_and_keeps_the_weights():
    generator = Generator(nz=8, ngf=8, channels=3, image_size=32).eval()  # weights still require grad
    before = [p.clone() for p in generator.parameters()]
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 5

    with torch.no_grad():  # as a caller on the inference thread would be: inversion still works
        found = invert(generator, torch.zeros(1, 3, 32, 32), steps=100, cancelled=cancelled)
    assert found.cancelled and found.z.shape == (1, 8)
    assert all(torch.equal(p, q) for p, q in zip(before, generator.parameters()))


def test_a_vaegan_is_encoded_with_its_encoder_mean():
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    config = {"image_size": 32, "channels": 3, "nz": 8, "nef": 8, "ngf": 8, "ndf": 8, "batch_size": 8}
    model = VAEGANTrainer(config, ImageDataset("noise", images), "cpu", seed=0).inference_model()
    assert has_encoder(model) and not has_encoder(tiny_generator())
    x = images[:3].float() / 127.5 - 1
    found = find_latents(model, x)
    with torch.no_grad():
        assert found.method == "encoder" and torch.allclose(found.z, model.encode(x))
