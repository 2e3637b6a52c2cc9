"""The spectrogram GAN's hyper-parameters, importable without torch (plugin discovery reads them).

The image DCGAN's, a quarter as wide by default (a 64 x 256 spectrogram has four times the pixels
of a 64 x 64 image; at width 16 a step takes ~0.6 s on one CPU core, at 32 ~2.5 s), plus the
constant-Q codec's frequency range and resolution.
"""

from __future__ import annotations

from studio.contributions import Param
from studio.ml.training.dcgan_params import DCGAN_PARAMS

# 62 semitone bands from A1 to A#6 (+ the DC and Nyquist rows: a 64-row image). At the studio's
# 3840 Hz rate the band above A#6 ends at Nyquist, so one second fits in 256 columns.
CODEC_PARAMS: dict[str, Param] = {
    "fmin": Param(55.0, "lowest constant-Q band centre (Hz)", minimum=10.0, maximum=10000.0),
    "fmax": Param(1864.0, "highest constant-Q band centre (Hz); below Nyquist", minimum=20.0, maximum=24000.0),
    "bins_per_octave": Param(12, "constant-Q bands per octave (the image has their count + 2 rows: "
                             "the GAN needs 32 or 64)", minimum=1, maximum=96),
}

SPECTROGRAM_PARAMS: dict[str, Param] = (
    DCGAN_PARAMS
    | {
        "ngf": Param(16, "generator width: channels of its last hidden layer", minimum=4, maximum=512),
        "ndf": Param(16, "discriminator width: channels of its first layer", minimum=4, maximum=512),
        "batch_size": Param(32, "spectrograms per step", minimum=2, maximum=1024),
    }
    | CODEC_PARAMS
)
