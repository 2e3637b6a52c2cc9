"""A DCGAN on raw audio, after seed paper 002 (DCGAN-style GAN on two-second bass loops).

Both networks are 1-D: the generator lifts z with a fully connected layer to a short sequence of
``base`` steps, then doubles it ``layers`` times with transposed convolutions (kernel 5, stride 2)
up to the clip; the discriminator mirrors it with stride-2 convolutions back down to ``base`` steps
and a fully connected layer to one logit. A clip length is therefore ``base * 2**layers``: two
seconds at 3840 Hz is 7680 = 15 * 2**9, at the paper's 2048 Hz 4096 = 16 * 2**8.

Departures from the paper, each for a reason:
  * padding 2 instead of 1 (with output_padding 1 in G): each layer then halves or doubles the
    length exactly, so any ``base * 2**layers`` works; with padding 1 a 4096-sample clip shrinks
    to 2047, 1022, ... and G cannot mirror D.
  * channel widths double toward the short end (DCGAN's convention; the paper's figure halves
    them in D) and are capped at MAX_WIDTH, so nine layers do not grow to 30,000 channels.
  * D's activation is LeakyReLU(0.2) (DCGAN's; the paper used ReLU in D and leaky ReLU in G) and
    G's is ReLU (DCGAN's), and D outputs a logit: the trainer applies the sigmoid inside
    BCEWithLogits, which is numerically safer than the paper's sigmoid + BCE.
  * D's normalisation is "batch" (the paper's) or "spectral" (Miyato et al. 2018): see
    wavegan_params.py for which learns the bass loops and why.
"""

from __future__ import annotations

import torch
from torch import nn

from studio.ml.models.dcgan import init_weights as init_convs  # DCGAN's N(0, 0.02), for 1-D layers too


def init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation, and N(0, 0.02) for the linear layers too (the lift from z, the logit)."""
    init_convs(module)
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
KERNEL = 5  # the paper's kernel size, in both networks
MIN_BASE, MAX_BASE = 4, 32  # the short end of both networks, in steps
SPLIT_ABOVE = 16  # a length is halved while it is even and longer than this (7680 -> 15, 4096 -> 16)
MAX_WIDTH = 512  # the largest channel cap allowed
D_NORMS = ("spectral", "batch")


def split_length(samples: int) -> tuple[int, int]:
    """``samples`` as ``(base, layers)`` with ``samples == base * 2**layers``, at least one layer and
    MIN_BASE <= base <= MAX_BASE; ValueError when no such split exists.

    The length is halved while it is even and above SPLIT_ABOVE: the short end is 16 steps for a
    power of two (8 for a clip of 16), else the clip's odd factor or twice it (at most MAX_BASE).
    """
    samples = int(samples)
    base, layers = samples, 0
    while base % 2 == 0 and base > SPLIT_ABOVE:
        base //= 2
        layers += 1
    if layers == 0 and base % 2 == 0 and base >= 2 * MIN_BASE:  # short clips still get one layer
        base, layers = base // 2, 1
    if layers < 1 or not MIN_BASE <= base <= MAX_BASE:
        raise ValueError(
            f"the wave GAN cannot make clips of {samples} samples: it needs base * 2**n samples with n >= 1 "
            f"and base between {MIN_BASE} and {MAX_BASE} (e.g. 4096 = 16 * 2**8, 7680 = 15 * 2**9); "
            f"choose a sample rate or duration that gives such a length"
        )
    return base, layers


def widths(first: int, layers: int, cap: int) -> list[int]:
    """Channels of the ``layers`` hidden levels from the clip's end inward: ``first``, doubling, at most ``cap``."""
    if not 1 <= cap <= MAX_WIDTH:
        raise ValueError(f"wave GAN max_width must be between 1 and {MAX_WIDTH}, not {cap}")
    return [min(first * 2**i, cap) for i in range(layers)]


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) < 1:
            raise ValueError(f"wave GAN {name} must be a positive integer, not {value}")


class WaveGenerator(nn.Module):
    """z of shape (N, nz) -> clips (N, 1, samples) in [-1, 1].

    A fully connected layer lifts z to (width, base); each of the ``layers`` transposed convs
    doubles the length and (below the cap) halves the width, down to ``ngf`` channels, and the last
    one outputs the single audio channel through tanh. Batch norm and ReLU between layers.
    """

    def __init__(self, nz: int = 100, ngf: int = 8, samples: int = 4096, max_width: int = 64):
        super().__init__()
        _check_positive(nz=nz, ngf=ngf)
        self.nz, self.samples = nz, samples
        self.base, layers = split_length(samples)
        # hidden levels from the clip inward: level i feeds the transposed conv that makes level i-1
        level = widths(ngf, layers, max_width)
        self.width = level[-1]
        self.lift = nn.Linear(nz, self.width * self.base, bias=False)
        body: list[nn.Module] = [nn.BatchNorm1d(self.width), nn.ReLU(True)]
        for c_in, c_out in zip(level[:0:-1], level[-2::-1]):
            body += [_up(c_in, c_out), nn.BatchNorm1d(c_out), nn.ReLU(True)]
        body += [_up(level[0], 1), nn.Tanh()]
        self.main = nn.Sequential(*body)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(self.lift(z.reshape(z.shape[0], self.nz)).reshape(-1, self.width, self.base))


def _up(c_in: int, c_out: int) -> nn.ConvTranspose1d:
    """Kernel 5, stride 2: (L - 1) * 2 - 2 * 2 + 5 + 1 = 2L exactly."""
    return nn.ConvTranspose1d(c_in, c_out, KERNEL, stride=2, padding=2, output_padding=1, bias=c_out == 1)


class WaveDiscriminator(nn.Module):
    """Clips (N, 1, samples) -> raw logits of shape (N,).

    Stride-2 convs (kernel 5) halve the length and (below the cap) double the width from ``ndf``
    down to the generator's ``base`` steps; a fully connected layer maps that to one logit.
    LeakyReLU(0.2) throughout; ``norm`` is "spectral" or "batch" (no batch norm on the first conv,
    as DCGAN). No sigmoid: the trainer uses BCEWithLogits.
    """

    def __init__(self, ndf: int = 8, samples: int = 4096, norm: str = "spectral", max_width: int = 64):
        super().__init__()
        _check_positive(ndf=ndf)
        if norm not in D_NORMS:
            raise ValueError(f"wave GAN discriminator norm must be one of {D_NORMS}, not {norm!r}")
        self.samples, self.norm = samples, norm
        base, layers = split_length(samples)
        spectral = norm == "spectral"
        level = widths(ndf, layers, max_width)
        # without batch norm after it a conv needs its bias (a bias-free net maps silence to logit 0)
        body: list[nn.Module] = [nn.Conv1d(1, level[0], KERNEL, 2, 2, bias=spectral), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(level, level[1:]):
            body += [nn.Conv1d(c_in, c_out, KERNEL, 2, 2, bias=spectral),
                     *([] if spectral else [nn.BatchNorm1d(c_out)]), nn.LeakyReLU(0.2, True)]
        self.main = nn.Sequential(*body)
        self.classify = nn.Linear(level[-1] * base, 1)
        self.apply(init_weights)
        if spectral:  # after init: the parametrisation keeps the initialised weight as its "original"
            for layer in [*self.main, self.classify]:
                if isinstance(layer, (nn.Conv1d, nn.Linear)):
                    nn.utils.parametrizations.spectral_norm(layer)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.classify(self.main(clips).flatten(1)).reshape(-1)
