"""DCGAN (Radford et al. 2015) as in pytorch/examples, for 32x32 and 64x64 images.

pytorch/examples only has the 64x64 stack; both sizes are built here from log2(image_size), so the
64x64 networks have one up/down-sampling layer more than the 32x32 ones and otherwise match.
Images may also be wider than tall by a power of two (``image_width``; a 64 x 256 constant-Q
spectrogram): the 4x4 core is then 4 x 4r and everything else is unchanged.

The discriminator has two normalisations. "batch" is the paper's (batch norm on every conv but the
first, no biases, as pytorch/examples). "spectral" (Miyato et al. 2018) keeps the same layers but
divides each conv's weight by its largest singular value instead, and gives every conv a bias.
It is the default because batch norm over separate real and fake batches stalls on the synthetic
shapes: D is then blind to a shift or rescaling of the whole fake batch, so it beats G at once
(D(G(z)) ~ 0.01 by step 100) and G stays a flat gray for thousands of steps. With spectral norm
the same G draws coloured shapes on the right backgrounds within a few hundred steps.

The generator also has two ways up. "transposed" is the paper's: 4x4 stride-2 transposed convs.
Their kernels overlap unevenly, which paints a checkerboard over flat areas that takes the
generator a long time to unlearn (Odena et al. 2016, "Deconvolution and checkerboard
artifacts"); on the flat-coloured shapes it dominated the first thousand steps. "resize", the
default, doubles the map by nearest-neighbour upsampling and then applies a 3x3 conv: no
checkerboard, sharper outlines in the same number of steps, at about 2.25x the multiply-adds of
each upsampling layer (measured: 30% more time per training step at 32x32).
"""

from __future__ import annotations

import math

import torch
from torch import nn

SIZES = (32, 64)
INIT_STD = 0.02  # the paper's N(0, 0.02) initialisation
D_NORMS = ("spectral", "batch")
G_UPSAMPLES = ("resize", "transposed")


def stride2_layers(image_size: int) -> int:
    """Number of stride-2 (up/down-sampling) layers between the 4x4 core and the image.

    4 -> 8 -> 16 -> 32 is three layers, one more to reach 64.
    """
    if image_size not in SIZES:
        raise ValueError(f"DCGAN supports image sizes {SIZES}, not {image_size}")
    return int(math.log2(image_size)) - 2


def core_width(image_size: int, image_width: int | None) -> int:
    """Width of the 4-row core map: 4, or 4r for an image r times wider than tall (r a power of 2)."""
    ratio = (image_width or image_size) / image_size
    if ratio < 1 or ratio != 2 ** round(math.log2(ratio)):
        raise ValueError(f"DCGAN image width must be the height times a power of two, not {image_width}x{image_size}")
    return int(4 * ratio)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"DCGAN {name} must be a positive integer, not {value}")


class Generator(nn.Module):
    """z of shape (N, nz) (or (N, nz, 1, 1)) -> images (N, channels, image_size, image_width) in [-1, 1].

    A 4x4 (4 x 4r for wide images) transposed conv lifts z to a map of ``ngf * 2**(layers-1)`` channels; each doubling
    layer (``upsample``: see the module docstring) doubles the resolution and halves the width;
    the last one outputs ``channels`` with tanh.
    """

    def __init__(self, nz: int = 100, ngf: int = 64, channels: int = 3, image_size: int = 64,
                 upsample: str = "resize", image_width: int | None = None):
        super().__init__()
        _check_positive(nz=nz, ngf=ngf, channels=channels)
        if upsample not in G_UPSAMPLES:
            raise ValueError(f"DCGAN generator upsample must be one of {G_UPSAMPLES}, not {upsample!r}")
        self.nz, self.channels, self.image_size, self.upsample = nz, channels, image_size, upsample
        self.image_width = image_width or image_size

        def double(c_in: int, c_out: int) -> list[nn.Module]:
            if upsample == "transposed":
                return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]

        n = stride2_layers(image_size)
        width = ngf * 2 ** (n - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, (4, core_width(image_size, image_width)), 1, 0, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(n - 1):
            layers += [*double(width, width // 2), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [*double(width, channels), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.reshape(z.shape[0], self.nz, 1, 1))


class Discriminator(nn.Module):
    """Images (N, channels, image_size, image_width) -> raw logits of shape (N,).

    No sigmoid: the trainer uses BCEWithLogits, which is numerically safer than Sigmoid + BCELoss.
    LeakyReLU(0.2) as in the paper; ``norm`` is "spectral" or "batch" (see the module docstring).
    """

    def __init__(self, ndf: int = 64, channels: int = 3, image_size: int = 64, norm: str = "spectral",
                 image_width: int | None = None):
        super().__init__()
        _check_positive(ndf=ndf, channels=channels)
        if norm not in D_NORMS:
            raise ValueError(f"DCGAN discriminator norm must be one of {D_NORMS}, not {norm!r}")
        self.channels, self.image_size, self.norm = channels, image_size, norm
        self.image_width = image_width or image_size
        spectral = norm == "spectral"

        def conv(c_in: int, c_out: int, stride: int, padding: int, kernel=4) -> nn.Conv2d:
            # without batch norm after it a conv needs its bias: a bias-free LeakyReLU net maps a
            # flat gray image (all zeros) to logit 0 whatever its weights
            return nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=spectral)

        n = stride2_layers(image_size)
        layers: list[nn.Module] = [conv(channels, ndf, 2, 1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for _ in range(n - 1):
            layers += [conv(width, width * 2, 2, 1), *([] if spectral else [nn.BatchNorm2d(width * 2)]),
                       nn.LeakyReLU(0.2, True)]
            width *= 2
        layers += [conv(width, 1, 1, 0, (4, core_width(image_size, image_width)))]  # the core map -> 1x1
        self.main = nn.Sequential(*layers)
        self.apply(init_weights)
        if spectral:  # after init: the parametrisation keeps the initialised weight as its "original"
            for layer in self.main:
                if isinstance(layer, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, images: torch.Tensor, with_features: bool = False):
        """Logits; with ``with_features``, ``(features, logits)`` (one call, so that a trainer
        running D under DistributedDataParallel goes through its wrapper)."""
        features = self.features(images)
        logits = self.classify(features)
        return (features, logits) if with_features else logits

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The last hidden layer, (N, C, 4, 4) (4 x 4r when wide): where a VAE-GAN measures reconstructions."""
        return self.main[:-1](images)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from :meth:`features`."""
        return self.main[-1](features).reshape(-1)


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions (1-D and 2-D), N(1, 0.02) weight and zero bias for batch norm,
    zero biases. (Linear layers keep torch's default: the VAE-GAN's encoder heads are linear.)

    Draws from torch's global RNG; the trainer seeds it (in a forked RNG state) for repeatable runs.
    """
    if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, INIT_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, INIT_STD)
        nn.init.zeros_(module.bias)
