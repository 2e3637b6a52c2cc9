"""latent-studio: train small generative models and look inside them."""

__version__ = "0.1.0"

from studio.hookspecs import hookimpl  # noqa: E402  (re-exported for plugin authors)

__all__ = ["__version__", "hookimpl"]
