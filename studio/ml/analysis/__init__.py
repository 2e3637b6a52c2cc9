"""Analysis of trained models, Qt-free: closed-loop dynamics, latent paths, novelty."""
