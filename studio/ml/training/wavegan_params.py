"""The wave GAN's hyper-parameters, importable without torch (plugin discovery reads them).

Seed paper 002's settings are each one edit away and named in the help: batch norm in D, Adam
lr 0.001 with betas (0.9, 0.999), no label smoothing, a 100-long z. The defaults depart where a
measurement said so: four synthetic bass loops at 3840 Hz (2 s, 7680 samples), one CPU thread,
seed 0 (and 1 where noted). "Correlation" is that of a fixed-z clip with its nearest training
loop, sample by sample, the median over the 64 clips; two different loops correlate at -0.02 to
0.13, so near 1 means the clip is that loop.

  batch-norm D, the paper's Adam    D wins at once (D(G(z)) 0.025 at step 200, 0.003 at 800) and
    (1e-3, betas 0.9/0.999)         G gives nearly one clip for every z (the clips correlate at
                                    0.99 with each other), like no loop: correlation 0.03 at 800.
  batch-norm D, the default Adam    the same: D(G(z)) 0.01, correlation 0.10 at step 800.
  spectral D, the paper's Adam      D wins by step 200 too (D(G(z)) 0.002).
  the defaults: spectral D, Adam    correlation 0.25 at step 400, 0.5 at 600, 0.93 at 800, on
    5e-4 with betas (0, 0.9)        both seeds.
  the same at lr 2e-4               0.3 at step 800 on both seeds, 0.8 at 1200 (seed 0).

What no setting fixed within 1200 steps is coverage: the fixed-z clips settle on one or two of
the four loops and hop between them (a minibatch-standard-deviation channel in D did not change
that, in one run each at 5e-4 and 2e-4). The networks are narrow because capacity is not what
limits learning: G alone, regressed onto the four loops, fits them to a correlation of 0.99 in
50 steps; and at ngf = ndf = 8 with a cap of 64 a step takes a third of the time it takes at 16
and 128.
"""

from __future__ import annotations

from studio.contributions import Param

WAVEGAN_PARAMS: dict[str, Param] = {
    "nz": Param(100, "latent size (length of z); the paper's 100", minimum=1, maximum=1024),
    "ngf": Param(8, "generator width: channels of its last hidden layer (doubling toward z, up to max_width)",
                 minimum=4, maximum=512),
    "ndf": Param(8, "discriminator width: channels of its first layer (doubling toward the logit, up to "
                 "max_width)", minimum=4, maximum=512),
    "max_width": Param(64, "channel cap of both networks, where the widths stop doubling (a step's cost grows "
                       "with its square)", minimum=4, maximum=512),
    "batch_size": Param(8, "clips per step (batch norm needs at least 2)", minimum=2, maximum=1024),
    "lr": Param(5e-4, "Adam learning rate, for both networks; the paper's 0.001", minimum=1e-6, maximum=1e-2),
    "beta1": Param(0.0, "Adam beta1 (momentum); the paper's 0.9, SN-GAN's 0", minimum=0.0, maximum=0.99),
    "beta2": Param(0.9, "Adam beta2; the paper's 0.999, SN-GAN's 0.9", minimum=0.0, maximum=0.9999),
    "d_norm": Param("spectral", "discriminator normalisation: spectral (Miyato 2018) or batch (the paper's; "
                    "D then wins at once on the bass loops)", choices=("spectral", "batch")),
    "real_label": Param(1.0, "D's target for real clips (one-sided label smoothing below 1.0; the paper's 1.0)",
                        minimum=0.5, maximum=1.0),
}
