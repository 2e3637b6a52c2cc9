"""The panels and model kinds that ship with latent-studio, each registered through the
``latent_studio`` entry-point group exactly as a third-party plugin is."""
