from functools import partial

import pytest
import torch
from torch import nn

from studio.ml.models.dcgan import Discriminator, Generator, init_weights


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_output_shapes(size, channels):
    G, D = Generator(nz=17, ngf=8, channels=channels, image_size=size), Discriminator(8, channels, size)
    images = G(torch.randn(5, 17))
    assert images.shape == (5, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # tanh
    logits = D(images)
    assert logits.shape == (5,)
    assert G(torch.randn(5, 17, 1, 1)).shape == (5, channels, size, size)  # (N, nz, 1, 1) works too


def test_discriminator_returns_unbounded_logits():
    D = Discriminator(8, 3, 32)
    with torch.no_grad():
        D.main[-1].weight.mul_(1000)  # a sigmoid at the end would keep these in (0, 1)
    logits = D(torch.randn(8, 3, 32, 32))
    assert logits.abs().max() > 1


def test_64_matches_pytorch_examples_and_32_has_one_layer_less():
    def convs(module, kind):
        return [m for m in module.modules() if isinstance(m, kind)]

    G64, G32 = Generator(100, 64, 3, 64), Generator(100, 64, 3, 32)
    assert [(c.in_channels, c.out_channels) for c in convs(G64, nn.ConvTranspose2d)] == [
        (100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    assert len(convs(G32, nn.ConvTranspose2d)) == 4
    D64, D32 = Discriminator(64, 3, 64), Discriminator(64, 3, 32)
    assert [(c.in_channels, c.out_channels) for c in convs(D64, nn.Conv2d)] == [
        (3, 64), (64, 128), (128, 256), (256, 512), (512, 1)]
    assert len(convs(D32, nn.Conv2d)) == 4
    # batch norm on every discriminator conv but the first and the last
    assert len(convs(D64, nn.BatchNorm2d)) == 3 and len(convs(G64, nn.BatchNorm2d)) == 4
    assert all(c.kernel_size == (4, 4) for c in convs(D64, nn.Conv2d) + convs(G64, nn.ConvTranspose2d))


@pytest.mark.parametrize("size", [16, 48, 128])
def test_unsupported_sizes_are_refused(size):
    with pytest.raises(ValueError, match=str(size)):
        Generator(16, 8, 3, size)
    with pytest.raises(ValueError, match=str(size)):
        Discriminator(8, 3, size)


def test_paper_initialisation():
    G = Generator(100, 64, 3, 64)
    conv, bn = G.main[0].weight, G.main[1]
    assert abs(conv.mean().item()) < 0.001 and abs(conv.std().item() - 0.02) < 0.001
    assert abs(bn.weight.mean().item() - 1) < 0.01 and abs(bn.weight.std().item() - 0.02) < 0.005
    assert torch.all(bn.bias == 0)


def test_initialisation_from_a_generator_ignores_the_global_rng():
    nets = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        G = Generator(16, 8, 3, 32)
        G.apply(partial(init_weights, generator=torch.Generator().manual_seed(5)))
        nets.append(G)
    assert all(torch.equal(p, q) for p, q in zip(nets[0].parameters(), nets[1].parameters()))
