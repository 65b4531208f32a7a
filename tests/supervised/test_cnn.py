"""The CNN: it fits what it is shown, and its separable option is the smaller network."""

from __future__ import annotations

import pytest
import torch

from rlsuite.supervised.cnn import CNN, CNNConfig, random_shift
from rlsuite.supervised.data import Batch, Split, load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("separable", [False, True])
def test_the_cnn_overfits_one_small_batch(digits, separable):
    config = CNNConfig(dropout=0.0, shift=0, separable=separable, channels=(16, 32))
    model = CNN(config, digits.spec, seed=0)
    batch = Batch(digits.train.x[:32], digits.train.y[:32])
    before = model.evaluate(Split(*batch))
    for _ in range(150):
        model.train_step(batch)
    after = model.evaluate(Split(*batch))
    assert before["accuracy"] < 0.3
    assert after["accuracy"] == 1.0 and after["loss"] < 0.05


def test_depthwise_separable_convolutions_need_fewer_weights(digits):
    plain = CNN(CNNConfig(channels=(64, 128)), digits.spec)
    separable = CNN(CNNConfig(channels=(64, 128), separable=True), digits.spec)
    conv_weights = [
        sum(p.numel() for p in model.net.convolutions.parameters()) for model in (plain, separable)
    ]
    assert conv_weights[1] < conv_weights[0] / 4


def test_probabilities_are_a_softmax_and_features_have_the_declared_size(digits):
    model = CNN(CNNConfig(hidden_sizes=(48,)), digits.spec)
    probabilities = model.predict_proba(digits.test.x[:5])
    assert probabilities.shape == (5, 10)
    assert torch.allclose(probabilities.sum(1), torch.ones(5))
    assert model.features(digits.test.x[:5]).shape == (5, model.feature_size) == (5, 48)


def test_random_shift_moves_a_picture_without_changing_it():
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 3:5, 3:5] = 1.0
    shifted = random_shift(image.repeat(64, 1, 1, 1), 2, torch.Generator().manual_seed(0))
    assert torch.all(shifted.sum((1, 2, 3)) == 4)  # the square stays whole (it never leaves)
    assert len({tuple(s.nonzero()[0].tolist()) for s in shifted}) > 10  # in many places
