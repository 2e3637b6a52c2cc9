"""The U-Net's hyper-parameters, importable without torch (plugin discovery reads them)."""

from __future__ import annotations

from itertools import combinations

from studio.contributions import Param

# every subset of the four skip connections, the full U-Net first and the autoencoder last
SKIP_CHOICES = tuple("".join(map(str, c)) for n in (4, 3, 2, 1) for c in combinations((1, 2, 3, 4), n)) + ("none",)

# the skip ablation (studio.ml.training.ablation): the paper's twelve models in its tables' order,
# and a quick set, Table 1 and the two skips the paper singles out
PAPER_VARIANTS = ("none", "1234", "1", "2", "3", "4", "12", "23", "24", "123", "124", "234")
QUICK_VARIANTS = ("none", "1234", "1", "2")

UNET_PARAMS: dict[str, Param] = {
    "skips": Param("1234", "the skip connections (Concat) the model is built with: latent1 nearest the image to "
                   "latent4; 'none' is the plain autoencoder", choices=SKIP_CHOICES),
    "width": Param(16, "channels of the first layer (doubling to at most 8x toward the bottleneck); 16 trains at ~10 "
                   "steps/s on a 2-core CPU at 64x64",
                   minimum=4, maximum=256),
    "batch_size": Param(32, "pairs per step (batch norm needs at least 2)", minimum=2, maximum=1024),
    "lr": Param(1e-3, "Adam learning rate", minimum=1e-6, maximum=1.0),
    "beta1": Param(0.9, "Adam beta1", minimum=0.0, maximum=0.999),
    "beta2": Param(0.999, "Adam beta2", minimum=0.0, maximum=0.9999),
}
