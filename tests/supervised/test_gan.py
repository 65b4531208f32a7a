"""GANs: both variants learn to imitate one small batch; the gradient penalty and the Frechet
distance match their formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rlsuite.errors import ConfigError
from rlsuite.supervised.data import Batch, load_dataset
from rlsuite.supervised.fid import classifier_score, feature_statistics, frechet_distance
from rlsuite.supervised.gan import DCGAN, WGANGP, gradient_penalty

FAST = dict(batch_size=32, width=32, latent_size=16, learning_rate=2e-3)


@pytest.fixture(scope="module")
def zeros():
    """32 handwritten zeros: one small batch of one class."""
    data = load_dataset("digits")
    return data, Batch(data.train.x[data.train.y == 0][:32], data.train.y[data.train.y == 0][:32])


def nearest_distance(model, images: torch.Tensor) -> float:
    """Mean distance from 64 samples to their nearest image of the batch."""
    samples = model.sample(64)
    return torch.cdist(samples.flatten(1), images.flatten(1)).min(1).values.mean().item()


@pytest.mark.parametrize(
    "cls, steps, generator", [(DCGAN, 100, "conv"), (WGANGP, 200, "conv"), (WGANGP, 200, "mlp")]
)
def test_each_gan_learns_to_imitate_one_small_batch(zeros, cls, steps, generator):
    data, batch = zeros
    model = cls(cls.Config(**FAST, generator=generator), data.spec, seed=0)
    before = nearest_distance(model, batch.x)
    for _ in range(steps):
        metrics = model.train_step(batch)
    assert nearest_distance(model, batch.x) < 0.5 * before
    assert "generator_loss" in metrics or cls is WGANGP  # n_critic=5: not every step


def test_a_conditional_gan_generates_the_class_it_is_given(zeros):
    data, _ = zeros
    model = DCGAN(DCGAN.Config(**FAST, conditional=True), data.spec, seed=0)
    labels = torch.tensor([0, 1, 2, 3])
    assert model.sample(4, labels).shape == (4, 1, 8, 8)
    # The class enters the generator: the same noise with another label gives another image.
    torch.manual_seed(0)
    z = torch.randn(4, 16)
    model.generator_net.eval()
    assert not torch.allclose(model.generator_net(z, labels), model.generator_net(z, labels + 1))


class LinearCritic(nn.Module):
    def __init__(self, norm: float) -> None:
        super().__init__()
        self.w = torch.full((64,), norm / 8.0)  # ||w|| = norm

    def forward(self, x, labels=None):
        return x.flatten(1) @ self.w


@pytest.mark.parametrize("norm, penalty", [(1.0, 0.0), (3.0, 4.0)])
def test_the_gradient_penalty_is_the_squared_distance_of_the_gradient_norm_from_one(norm, penalty):
    real, fake = torch.rand(16, 1, 8, 8), torch.rand(16, 1, 8, 8)
    value = gradient_penalty(LinearCritic(norm), real, fake, None, torch.Generator())
    assert value.item() == pytest.approx(penalty, abs=1e-5)


def test_the_frechet_distance_of_gaussians_is_the_closed_form():
    # 1-D: (mu1 - mu2)^2 + (sigma1 - sigma2)^2
    assert frechet_distance(
        np.array([1.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])
    ) == pytest.approx(4.0 + 1.0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4000, 3)), rng.normal(size=(4000, 3))
    same = frechet_distance(*feature_statistics(a), *feature_statistics(b))
    shifted = frechet_distance(*feature_statistics(a), *feature_statistics(b + 1.0))
    assert same < 0.02 and shifted == pytest.approx(3.0, rel=0.05)


def test_the_classifier_score_rewards_certain_and_even_classes_and_catches_mode_collapse():
    certain_and_even = np.eye(10)[np.arange(1000) % 10]  # each image sure of its class
    assert classifier_score(certain_and_even) == pytest.approx(10.0)
    collapsed = np.tile(np.eye(10)[3], (1000, 1))  # every image the same digit
    assert classifier_score(collapsed) == pytest.approx(1.0)
    unsure = np.full((1000, 10), 0.1)  # no image looks like any digit
    assert classifier_score(unsure) == pytest.approx(1.0)
    two_classes = np.eye(10)[np.arange(1000) % 2]
    assert classifier_score(two_classes) == pytest.approx(2.0)


@pytest.mark.parametrize("shape", [(3, 64, 64), (3, 84, 84), (1, 7, 7)])
def test_both_gans_generate_game_frames_of_any_size(shape):
    from rlsuite.supervised.data import DataSpec

    spec = DataSpec("frames", "images", shape, num_classes=2, class_names=("a", "b"))
    for cls, generator in ((DCGAN, "conv"), (WGANGP, "conv"), (DCGAN, "mlp")):
        model = cls(cls.Config(width=16, conditional=True, generator=generator), spec, seed=0)
        samples = model.sample(2, torch.tensor([0, 1]))
        assert samples.shape == (2, *shape) and 0 <= samples.min() and samples.max() <= 1
        assert model.discriminator(samples, torch.tensor([0, 1])).shape == (2,)


def test_wgan_gp_trains_by_the_papers_recipe_and_refuses_batch_norm_in_its_critic(zeros):
    data, _ = zeros
    model = WGANGP(WGANGP.Config(), data.spec, seed=0)
    c = model.config
    assert (c.learning_rate, c.beta1, c.beta2, c.n_critic, c.gp_weight) == (1e-4, 0.0, 0.9, 5, 10)
    kinds = {type(m) for m in model.discriminator.modules()}
    assert nn.GroupNorm in kinds and nn.BatchNorm2d not in kinds  # layer norm, per example
    assert nn.BatchNorm2d in {
        type(m) for m in DCGAN(DCGAN.Config(), data.spec).discriminator.modules()
    }
    with pytest.raises(ConfigError, match="wgan-gp's critic cannot use discriminator_norm=batch"):
        WGANGP(WGANGP.Config(discriminator_norm="batch"), data.spec, seed=0)


def test_generator_norm_none_drops_batch_norm_so_each_sample_depends_on_its_own_noise(zeros):
    data, _ = zeros
    z = torch.randn(8, 64)
    for norm, independent in (("batch", False), ("none", True)):
        model = WGANGP(WGANGP.Config(generator_norm=norm), data.spec, seed=0)
        net = model.generator_net.train()  # in training, batch norm mixes the batch's examples
        has_batch_norm = any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
        assert has_batch_norm is not independent
        assert torch.allclose(net(z[:2]), net(z)[:2], atol=1e-6) is independent
