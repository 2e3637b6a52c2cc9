"""VAE-GAN: feature-space reconstruction, the encoder inverts the generator, the predictive variant."""

import pytest
import torch

from studio.ml.data.base import ImageDataset, to_signed_float
from studio.ml.data.shapes import render_shapes, sample_factors
from studio.ml.models.vaegan import Encoder, VAEGANModel, kl_to_standard_normal
from studio.ml.training.vaegan import VAEGANTrainer
from studio.ml.training.vaegan_params import VAEGAN_PARAMS

TINY = {"image_size": 32, "channels": 3, "nz": 8, "nef": 8, "ngf": 8, "ndf": 8, "batch_size": 16,
        "lr": 2e-3, "margin": 0.0}
# reconstruction first: the decoder weighs it like the GAN term, the KL term only keeps z in range
RECONSTRUCT = {"gamma": 1.0, "kl_weight": 0.05}


def few_shapes(n: int = 4) -> ImageDataset:
    """``n`` different shapes, repeated: a set small enough to reconstruct after a few hundred steps."""
    images = render_shapes(sample_factors(n, seed=3), 32, 3)
    return ImageDataset("few-shapes", images.repeat(16, 1, 1, 1))


def test_encoder_shapes_and_kl():
    encoder = Encoder(nz=5, nef=8, channels=1, image_size=64)
    mu, logvar = encoder(torch.randn(3, 1, 64, 64))
    assert mu.shape == logvar.shape == (3, 5)
    assert kl_to_standard_normal(torch.zeros(2, 5), torch.zeros(2, 5)).item() == 0.0
    # KL of N(1, 1) per dimension is 1/2; summed over 5 dimensions
    assert kl_to_standard_normal(torch.ones(2, 5), torch.zeros(2, 5)).item() == pytest.approx(2.5)


def test_reconstruction_is_measured_in_the_discriminator_features():
    """With D frozen (a fixed feature space), training lowers the feature-space distance between
    images and their reconstructions, which is what the trainer reports as llike."""
    trainer = VAEGANTrainer(TINY | RECONSTRUCT, few_shapes(), "cpu", seed=0)
    trainer.D.requires_grad_(False)
    x = to_signed_float(trainer.dataset.images[:4])

    def feature_error():  # with the posterior mean: no sampling noise
        networks = (trainer.E, trainer.G, trainer.D)
        for network in networks:
            network.eval()
        with torch.no_grad():
            rec = trainer.G(trainer.E(x)[0])
            error = 0.5 * (trainer.D.features(rec) - trainer.D.features(x)).square().flatten(1).sum(1).mean()
        for network in networks:
            network.train()
        return error.item()

    before = feature_error()
    reported = [trainer.step()["llike"] for _ in range(150)]
    after = feature_error()
    assert after < 0.5 * before, (before, after)
    assert sum(reported[-10:]) < sum(reported[:10]), reported  # the reported loss falls too


def test_the_encoder_of_a_trained_model_finds_z_that_regenerates_the_image():
    data = few_shapes()
    trainer = VAEGANTrainer(TINY | RECONSTRUCT, data, "cpu", seed=1)
    model = trainer.inference_model()
    originals = to_signed_float(data.images[:4])

    def errors(model):
        with torch.no_grad():
            rec = model(model.encode(originals))
        return (rec[:, None] - originals[None]).square().mean(dim=(2, 3, 4))  # [reconstruction, original]

    before = errors(model).diagonal()
    for _ in range(200):
        trainer.step()
    after_matrix = errors(trainer.inference_model())
    after = after_matrix.diagonal()
    assert (after < 0.5 * before).all(), (before, after)
    # each reconstruction is nearest to its own original among the four
    assert (after_matrix.argmin(dim=1) == torch.arange(4)).all(), after_matrix


def test_inference_model_is_a_private_eval_copy():
    trainer = VAEGANTrainer(TINY, few_shapes(), "cpu", seed=0)
    model = trainer.inference_model()
    assert isinstance(model, VAEGANModel) and not model.training
    z = torch.randn(3, TINY["nz"])
    assert model(z).shape == (3, 3, 32, 32)
    assert model.loop(z).shape == (3, TINY["nz"])
    before = model.generator.main[0].weight.clone()
    trainer.step()
    assert torch.equal(model.generator.main[0].weight, before)


def test_checkpoint_state_round_trips():
    trainer = VAEGANTrainer(TINY, few_shapes(), "cpu", seed=0)
    trainer.step()
    twin = VAEGANTrainer(TINY, few_shapes(), "cpu", seed=5)
    twin.load_state(trainer.state_tensors(), trainer.extra_state())
    assert twin.step() == trainer.step()  # same weights, optimiser moments and RNG: the same next step


def test_equilibrium_pauses_the_winner():
    trainer = VAEGANTrainer(TINY | {"margin": 0.35, "equilibrium": 0.68}, few_shapes(), "cpu", seed=0)
    assert trainer._equilibrium(0.2, 0.7) == (False, True)  # D too good on reals: D waits
    assert trainer._equilibrium(0.7, 1.2) == (True, False)  # D losing: the decoder waits
    assert trainer._equilibrium(0.2, 1.2) == (True, True)  # both would wait: both train
    assert VAEGANTrainer(TINY, few_shapes(), "cpu", seed=0)._equilibrium(0.0, 9.0) == (True, True)  # margin 0


def test_predictive_variant_needs_ordered_frames():
    with pytest.raises(ValueError, match="few-shapes.*not a sequence"):
        VAEGANTrainer(TINY | {"predict": "next"}, few_shapes(), "cpu", seed=0)


def test_params_describe_the_config():
    trainer = VAEGANTrainer({"image_size": 32, "channels": 3}, few_shapes(), "cpu", seed=0)
    assert set(trainer.config) == set(VAEGAN_PARAMS) | {"image_size", "channels"}
    for name, param in VAEGAN_PARAMS.items():
        assert param.help, name
        assert param.default in param.choices if param.choices else param.minimum <= param.default <= param.maximum
