"""The batched two-trunk MLP computes what two separate MLPs compute; the pixel pipeline keeps
frames uint8 until the CNN, which actor and critic share by default (separate on request)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlsuite
from rlsuite.agents import make_agent
from rlsuite.agents.base import SpacesOnlyEnv
from rlsuite.agents.common.nets import CNNEncoder, MLPEncoder
from rlsuite.agents.common.rollout import to_train_batch
from rlsuite.vector import make_vector_env


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


# -- pixels: one CNN trunk by default, uint8 frames until the network ------------------------------
def invaders_pixels(n: int = 2):
    return make_vector_env("rlsuite/Invaders-v0", n, obs_mode="pixels", reward_mode="shaped")


def test_pixel_rollout_holds_the_env_frames_as_uint8():
    envs = invaders_pixels()
    agent = make_agent("ppo", envs, {"n_steps": 6, "batch_size": 12}, seed=0)
    agent.collector.reset(seed=0)
    first_frames = agent.collector.obs.copy()
    batch = agent.collect()
    # The buffer keeps the env's own bytes (a quarter of float32's memory), exactly.
    assert batch.obs.dtype == np.uint8 and batch.obs.shape == (6, 2, 64, 64, 3)
    np.testing.assert_array_equal(batch.obs[0], first_frames)
    # Flattening for the update copies no frame either: the tensor shares the rollout's memory.
    train = to_train_batch(batch, np.zeros((6, 2)), np.zeros((6, 2)))
    assert train.obs.dtype == torch.uint8
    assert np.shares_memory(train.obs.numpy(), batch.obs)


def test_cnn_on_uint8_frames_equals_the_cnn_on_frames_divided_by_255():
    space = gym.spaces.Box(0, 255, (64, 64, 6), np.uint8)  # a 2-frame stack
    encoder = CNNEncoder(space)
    frames = torch.randint(0, 256, (5, 64, 64, 6), dtype=torch.uint8)
    scaled = frames.permute(0, 3, 1, 2).float() / 255  # (B, C, H, W) in [0, 1]
    torch.testing.assert_close(encoder(frames), encoder.forward_chw(scaled))
    assert encoder(frames).shape == (5, 256)


def cells_seen_across(settings: dict) -> int:
    """How many 4-pixel cells, along a row, move the CNN features of the map's centre position:
    the span of input columns where the gradient of that position's features is non-zero."""
    envs = invaders_pixels()
    encoder = make_agent("ppo", envs, settings, seed=0).policy.encoder
    frames = torch.rand(1, 3, 64, 64, requires_grad=True)
    features = encoder.conv_map(frames)  # (1, channels, h, w)
    features[0, :, features.shape[2] // 2, features.shape[3] // 2].sum().backward()
    columns = torch.nonzero(frames.grad.abs().sum(dim=(0, 1, 2))).squeeze(1)
    return int(columns.max() - columns.min() + 1) // 4


@pytest.mark.parametrize("context_layers", [0, 1, 2])
def test_each_context_layer_widens_what_a_feature_sees_by_a_cell_on_each_side(context_layers):
    # conv 4x4/4 sees one cell; each 3x3 stride-1 layer adds a cell on both sides; the 3x3
    # stride-2 layer spans three positions of the map below it.
    assert cells_seen_across({"cnn_context_layers": context_layers}) == 3 + 2 * context_layers


@pytest.mark.parametrize(("pool", "moves"), [("max", False), ("flatten", True)])
def test_max_pooled_features_do_not_change_when_the_scene_moves(pool, moves):
    # A scene of random pixels in the middle of a black screen, then the same scene two cells
    # (8 pixels) to the right: the maximum over positions sees the same things, the flattened
    # map sees them elsewhere.
    space = gym.spaces.Box(0, 255, (64, 64, 3), np.uint8)
    torch.manual_seed(0)
    encoder = CNNEncoder(space, context_layers=2, pool=pool)
    scene = torch.randint(0, 256, (16, 16, 3), dtype=torch.uint8)
    frames = torch.zeros(2, 64, 64, 3, dtype=torch.uint8)
    frames[0, 24:40, 16:32], frames[1, 24:40, 24:40] = scene, scene
    features = encoder(frames)
    assert torch.equal(features[0], features[1]) != moves


def test_context_layers_keep_the_feature_size_and_a_saved_agent_keeps_them(tmp_path):
    envs = invaders_pixels()
    agent = make_agent("ppo", envs, {"cnn_context_layers": 2}, seed=0)
    assert agent.policy.encoder.out_dim == 256
    agent.save(tmp_path / "agent.pt")
    loaded = rlsuite.load(tmp_path / "agent.pt")
    assert len(loaded.policy.encoder.context_convs) == 2
    frames = invaders_pixels().reset(seed=3)[0]
    np.testing.assert_array_equal(
        loaded.predict(frames, deterministic=True), agent.predict(frames, deterministic=True)
    )
    with pytest.raises(ValueError, match="cnn_context_layers"):
        make_agent("ppo", envs, {"cnn_context_layers": -1}, seed=0)


@pytest.mark.parametrize(
    ("obs_space", "reader"),
    [
        (gym.spaces.Box(-1.0, 1.0, (10,), np.float32), "an MLP"),
        (gym.spaces.Box(0, 255, (7, 7, 3), np.uint8), "the small-image CNN"),  # MiniGrid's view
    ],
)
@pytest.mark.parametrize("setting", [{"cnn_context_layers": 2}, {"cnn_pool": "max"}])
def test_cnn_options_are_refused_where_no_cnn_of_cells_reads_them(obs_space, reader, setting):
    envs = SpacesOnlyEnv(obs_space, gym.spaces.Discrete(3))
    with pytest.raises(ValueError, match=f"{next(iter(setting))}.*{reader}.*drop the setting"):
        make_agent("ppo", envs, setting, seed=0)
    make_agent("ppo", envs, {}, seed=0)  # the defaults build


def policy_moves_when_only_the_critic_learns(agent, frames: np.ndarray) -> bool:
    """One SGD step on the value loss alone: does the policy's output change?"""
    net = agent.policy
    logits = net.heads_numpy(frames)[0]
    net.zero_grad()
    net.value(torch.from_numpy(frames)).pow(2).mean().backward()
    torch.optim.SGD(net.parameters(), lr=0.1).step()
    return not np.allclose(net.heads_numpy(frames)[0], logits)


@pytest.mark.parametrize(
    ("shared_trunk", "shared"), [(None, True), (True, True), (False, False)], ids=str
)
def test_shared_and_separate_cnn_trunks_both_train(shared_trunk, shared):
    envs = invaders_pixels()
    settings = {"n_steps": 16, "batch_size": 16, "n_epochs": 2, "shared_trunk": shared_trunk}
    agent = make_agent("ppo", envs, settings, seed=0)
    before = {name: p.detach().clone() for name, p in agent.policy.named_parameters()}
    agent.collector.reset(seed=0)
    metrics = agent.update(agent.collect())
    assert all(np.isfinite(value) for value in metrics.values()), metrics
    unchanged = [n for n, p in agent.policy.named_parameters() if torch.equal(p, before[n])]
    assert unchanged == []  # every layer of every trunk learned
    # Shared (the default for images): the critic's loss shapes the features the actor uses.
    # Separate: the actor's trunk never sees the critic's gradient.
    frames = agent.collector.obs
    assert policy_moves_when_only_the_critic_learns(agent, frames) == shared


def test_vector_observations_keep_two_trunks_by_default(toy_envs):
    agent = make_agent("ppo", toy_envs.cartpole(2), {}, seed=0)
    frames = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    assert not policy_moves_when_only_the_critic_learns(agent, frames)
