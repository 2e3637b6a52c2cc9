import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from studio.ml.models.dcgan import D_NORMS, G_UPSAMPLES, Discriminator, Generator


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("upsample", G_UPSAMPLES)
def test_output_shapes(size, channels, upsample):
    G = Generator(nz=17, ngf=8, channels=channels, image_size=size, upsample=upsample)
    D = Discriminator(8, channels, size)
    images = G(torch.randn(5, 17))
    assert images.shape == (5, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # tanh
    logits = D(images)
    assert logits.shape == (5,)
    assert G(torch.randn(5, 17, 1, 1)).shape == (5, channels, size, size)  # (N, nz, 1, 1) works too


@pytest.mark.parametrize("norm", D_NORMS)
def test_discriminator_returns_unbounded_logits(norm):
    D = Discriminator(8, 3, 32, norm)
    with torch.no_grad():  # a sigmoid at the end would keep the logits in (0, 1)
        if norm == "spectral":
            D.main[-1].bias.fill_(5.0)  # spectral norm undoes any weight scaling
        else:
            D.main[-1].weight.mul_(1000)
    logits = D(torch.randn(8, 3, 32, 32))
    assert logits.abs().max() > 1


def test_64_matches_pytorch_examples_and_32_has_one_layer_less():
    def convs(module, kind):
        return [m for m in module.modules() if isinstance(m, kind)]

    G64, G32 = Generator(100, 64, 3, 64, "transposed"), Generator(100, 64, 3, 32, "transposed")
    assert [(c.in_channels, c.out_channels) for c in convs(G64, nn.ConvTranspose2d)] == [
        (100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    assert len(convs(G32, nn.ConvTranspose2d)) == 4
    # resize: the same widths, each doubling a nearest upsample and a 3x3 conv
    resized = Generator(100, 64, 3, 64, "resize")
    assert [(c.in_channels, c.out_channels) for c in convs(resized, (nn.ConvTranspose2d, nn.Conv2d))] == [
        (100, 512), (512, 256), (256, 128), (128, 64), (64, 3)]
    assert len(convs(resized, nn.Upsample)) == 4
    assert all(c.kernel_size == (3, 3) for c in convs(resized, nn.Conv2d))
    for norm in D_NORMS:
        D64, D32 = Discriminator(64, 3, 64, norm), Discriminator(64, 3, 32, norm)
        assert [(c.in_channels, c.out_channels) for c in convs(D64, nn.Conv2d)] == [
            (3, 64), (64, 128), (128, 256), (256, 512), (512, 1)], norm
        assert len(convs(D32, nn.Conv2d)) == 4
        assert all(c.kernel_size == (4, 4) for c in convs(D64, nn.Conv2d) + convs(G64, nn.ConvTranspose2d))
    # the paper's D: batch norm on every conv but the first and the last, no biases
    D = Discriminator(64, 3, 64, "batch")
    assert len(convs(D, nn.BatchNorm2d)) == 3 and len(convs(G64, nn.BatchNorm2d)) == 4
    assert all(c.bias is None for c in convs(D, nn.Conv2d))
    # spectral: the same convs, each weight spectrally normalised and with a bias, no batch norm
    D = Discriminator(64, 3, 64, "spectral")
    assert not convs(D, nn.BatchNorm2d)
    assert all(parametrize.is_parametrized(c, "weight") and c.bias is not None for c in convs(D, nn.Conv2d))


def test_spectral_norm_bounds_each_conv_weight():
    D = Discriminator(16, 3, 32, "spectral")
    for _ in range(30):  # power iterations run in training-mode forwards
        D(torch.randn(4, 3, 32, 32))
    for conv in [m for m in D.modules() if isinstance(m, nn.Conv2d)]:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.05)


def test_unknown_norm_or_upsampling_is_refused():
    with pytest.raises(ValueError, match="layer"):
        Discriminator(8, 3, 32, "layer")
    with pytest.raises(ValueError, match="bilinear"):
        Generator(16, 8, 3, 32, "bilinear")


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
