"""The batched two-trunk MLP computes what two separate MLPs compute."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from rlsuite.agents.common.nets import MLPEncoder


def separate_mlp(encoder: MLPEncoder, copy: int, obs: torch.Tensor) -> torch.Tensor:
    """Copy ``copy`` of the encoder's trunk, run as a plain MLP of F.linear layers."""
    x = obs
    for weight, bias in encoder.layers:
        x = torch.tanh(torch.nn.functional.linear(x, weight[copy].T, bias[copy, 0]))
    return x


def test_copies_are_independent_mlps_in_torch_and_numpy():
    space = gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    torch.manual_seed(0)
    encoder = MLPEncoder(space, (64, 32), "tanh", copies=2)
    obs = torch.randn(8, 4)
    features = encoder(obs)  # (2, 8, 32)
    assert features.shape == (2, 8, 32)
    for copy in (0, 1):
        torch.testing.assert_close(features[copy], separate_mlp(encoder, copy, obs))
    np.testing.assert_allclose(encoder.forward_numpy(obs.numpy()), features.detach(), atol=1e-6)
    # Two copies, two different initialisations: the trunks start as different functions.
    assert not torch.allclose(features[0], features[1])


def test_gradient_of_one_copy_leaves_the_other_untouched():
    space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    encoder = MLPEncoder(space, (16,), "tanh", copies=2)
    encoder(torch.randn(5, 3))[1].sum().backward()
    weight = encoder.weights[0]
    assert weight.grad[0].abs().sum() == 0 and weight.grad[1].abs().sum() > 0
