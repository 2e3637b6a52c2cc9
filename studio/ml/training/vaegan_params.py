"""VAE-GAN's hyper-parameters, importable without torch (plugin discovery reads them)."""

from __future__ import annotations

from studio.contributions import Param
from studio.ml.training.dcgan_params import DCGAN_PARAMS

PREDICT_TARGETS = ("same", "next")

VAEGAN_PARAMS: dict[str, Param] = {
    "predict": Param("same", "what the decoder reconstructs: the same frame (VAE-GAN), or the next frame of an "
                     "ordered sequence (the predictive model)", choices=PREDICT_TARGETS),
    "nz": Param(32, "latent size (length of z)", minimum=1, maximum=1024),
    "nef": Param(64, "encoder width: channels of its first layer (doubling toward z)", minimum=4, maximum=512),
    **{name: DCGAN_PARAMS[name] for name in ("ngf", "ndf", "batch_size", "lr", "beta1", "beta2", "g_upsample", "d_norm",
                                             "real_label")},
    # 1.0 collapsed the posterior on the walk: the feature distance it competes with is small
    "kl_weight": Param(0.05, "weight of the KL term in the encoder's loss (beta)", minimum=0.0, maximum=100.0),
    "gamma": Param(1e-2, "weight of the feature-space reconstruction against the GAN term in the decoder's loss "
                   "(Larsen et al.: small)", minimum=0.0, maximum=100.0),
    "equilibrium": Param(0.68, "D's target loss: D is not updated while a loss of D is below equilibrium - margin, "
                         "the decoder not while one is above equilibrium + margin", minimum=0.0, maximum=5.0),
    "margin": Param(0.35, "half-width of the equilibrium band; 0 updates both networks every step",
                    minimum=0.0, maximum=5.0),
}
