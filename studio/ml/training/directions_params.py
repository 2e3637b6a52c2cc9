"""The direction models' hyper-parameters, importable without torch (plugin discovery reads them)."""

from __future__ import annotations

from studio.contributions import Param

METHODS = ("linear", "warped", "curvilinear")  # as studio.ml.models.directions.METHODS

DIRECTIONS_PARAMS: dict[str, Param] = {
    "generator": Param("", "the generator checkpoint (a DCGAN or VAE-GAN .safetensors) whose latent space is "
                       "explored; it stays frozen, and its weights are stored with the directions", is_path=True),
    "method": Param("curvilinear", "linear: z + t a_k (LinearGANSpace); warped: RBF vector fields followed "
                    "numerically (WarpedGANSpace); curvilinear: f^-1(f(z) + t e_k), f an invertible flow "
                    "(DeCurvEd)", choices=METHODS),
    "directions": Param(8, "how many directions to discover (K; curvilinear: at most nz)", minimum=1, maximum=256),
    "max_shift": Param(3.0, "edits are drawn with |t| up to this (a distance in z for linear and warped, in "
                       "f(z) for curvilinear)", minimum=0.1, maximum=50.0),
    "min_shift": Param(0.5, "... and at least this, so every pair shows a visible change", minimum=0.0,
                       maximum=50.0),
    "shift_weight": Param(0.25, "lambda: weight of the L1 error of the predicted shift against the "
                          "cross-entropy of the predicted direction", minimum=0.0, maximum=100.0),
    "logdet_weight": Param(1.0, "alpha (curvilinear): weight of (log|det df/dz|)^2, which keeps f close to "
                           "volume-preserving", minimum=0.0, maximum=100.0),
    "length_weight": Param(1.0, "curvilinear: weight of log(|z' - z| / |t|)^2, which keeps t a distance in z "
                           "(else f learns to shrink the edit axes: tiny t, huge edits)", minimum=0.0, maximum=100.0),
    "dipoles": Param(4, "warped: RBF dipoles (pairs of support vectors) per direction", minimum=1, maximum=64),
    "couplings": Param(4, "curvilinear: affine coupling layers of the flow", minimum=1, maximum=32),
    "hidden": Param(64, "curvilinear: width of each coupling's network", minimum=4, maximum=1024),
    "batch_size": Param(32, "latent pairs per step", minimum=2, maximum=1024),
    "lr": Param(1e-3, "Adam learning rate for the directions and the reconstructor", minimum=1e-6, maximum=1.0),
}
