"""An example latent-studio plugin: a sketchbook panel that draws samples from a model, trains a
short DCGAN sketch, and takes dropped images. See docs/plugins.md of latent-studio."""
