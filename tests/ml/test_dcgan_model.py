import pytest
import torch

from studio.ml.models.dcgan import Discriminator, Generator


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_round_trip(size, channels):
    G, D = Generator(nz=17, ngf=8, channels=channels, image_size=size), Discriminator(8, channels, size)
    images = G(torch.randn(5, 17))
    assert images.shape == (5, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1
    assert D(images).shape == (5,)


def test_64_has_one_layer_more_than_32():
    convs = lambda m: sum(isinstance(x, torch.nn.ConvTranspose2d) for x in m.modules())  # noqa: E731
    assert convs(Generator(16, 8, 3, 64)) == convs(Generator(16, 8, 3, 32)) + 1


def test_unsupported_size_is_refused():
    with pytest.raises(ValueError, match="48"):
        Generator(16, 8, 3, 48)


def test_paper_initialisation():
    G = Generator(100, 64, 3, 64)
    conv = G.main[0].weight
    assert abs(conv.mean().item()) < 0.002 and abs(conv.std().item() - 0.02) < 0.002
