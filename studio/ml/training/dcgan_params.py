"""DCGAN's hyper-parameters, importable without torch (plugin discovery reads them)."""

from __future__ import annotations

from studio.contributions import Param

DCGAN_PARAMS: dict[str, Param] = {
    "nz": Param(100, "latent size (length of z)", minimum=1, maximum=1024),
    "ngf": Param(64, "generator width: channels of its last hidden layer (doubling toward z)", minimum=4, maximum=512),
    "ndf": Param(64, "discriminator width: channels of its first layer (doubling toward the logit)",
                 minimum=4, maximum=512),
    "batch_size": Param(64, "images per step (batch norm needs at least 2)", minimum=2, maximum=1024),
    "lr": Param(2e-4, "Adam learning rate, for both networks", minimum=1e-6, maximum=1e-2),
    # Adam (0, 0.9) as SN-GAN and its successors: measured on the shapes, G then covers the white
    # backgrounds by step 300, where with the paper's (0.5, 0.999) it draws only dark ones at 1000.
    "beta1": Param(0.0, "Adam beta1 (momentum); the paper's 0.5, SN-GAN's 0", minimum=0.0, maximum=0.99),
    "beta2": Param(0.9, "Adam beta2; the paper's 0.999, SN-GAN's 0.9", minimum=0.0, maximum=0.9999),
    "g_upsample": Param("resize", "generator upsampling: resize (nearest + 3x3 conv, no checkerboard) or "
                        "transposed (Radford 2015)", choices=("resize", "transposed")),
    "d_norm": Param("spectral", "discriminator normalisation: spectral (Miyato 2018, learns the shapes in a "
                    "few hundred steps) or batch (Radford 2015, as pytorch/examples)", choices=("spectral", "batch")),
    # Salimans et al. 2016: a real target of 0.9 keeps D from growing over-confident on easy data
    # such as the flat-coloured shapes; 1.0 is Radford et al.'s setting.
    "real_label": Param(0.9, "D's target for real images (one-sided label smoothing; 1.0 = none)",
                        minimum=0.5, maximum=1.0),
}
