import numpy as np
import pytest
import torch

from studio.ml.data.digits import load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits(32, 1)


def test_shapes_and_value_range(digits):
    assert digits.images.shape == (1797, 1, 32, 32) and digits.images.dtype == torch.uint8
    assert digits.images.min() == 0 and digits.images.max() >= 250
    assert digits.images[..., :3].float().mean() < 5  # black margins left and right: white ink on black
    assert sorted(np.unique(digits.factors["label"]).tolist()) == list(range(10))


def test_labels_match_the_pictures(digits):
    """A nearest-class-mean classifier on the upsampled images gets most digits right: the
    labels belong to these images, and different digits look different."""
    images, labels = digits.images.view(len(digits), -1).float(), torch.from_numpy(digits.factors["label"])
    train, test = slice(0, 1200), slice(1200, None)
    means = torch.stack([images[train][labels[train] == d].mean(0) for d in range(10)])
    predicted = torch.cdist(images[test], means).argmin(1)
    assert (predicted == labels[test]).float().mean() > 0.8
    assert torch.cdist(means, means)[~torch.eye(10, dtype=torch.bool)].min() > 500


def test_64px_rgb_replicates_the_gray():
    data = load_digits(64, 3)
    assert data.images.shape == (1797, 3, 64, 64)
    assert torch.equal(data.images[:, 0], data.images[:, 1]) and torch.equal(data.images[:, 1], data.images[:, 2])


def test_bad_channels_are_refused():
    with pytest.raises(ValueError, match="channels"):
        load_digits(32, 2)
