"""Curiosity (ICM, RND, count): intrinsic rewards fall where the agent has been and stay high
where it has not; the intrinsic return runs across episode ends, the extrinsic one does not;
curiosity alone learns nothing from the env's reward; small images get a CNN."""

from __future__ import annotations

import copy
import functools

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from rlsuite.agents import make_agent
from rlsuite.agents.common.nets import SmallCNNEncoder
from rlsuite.agents.curiosity import StateCounter
from rlsuite.envs.experts import ScriptedExpert
from rlsuite.errors import ConfigError
from rlsuite.vector import make_vector_env

KEYDOOR = "rlsuite/KeyDoor-16x16-v0"


def transitions(envs, choose_action, steps: int) -> tuple[np.ndarray, ...]:
    """(obs, actions, next_obs) of `steps` steps of every env, next_obs the true next state."""
    obs, _ = envs.reset(seed=0)
    rows = []
    for _ in range(steps):
        actions = choose_action()
        next_obs, _, _, _, info = envs.step(actions)
        true_next = next_obs.copy()
        if "_final_obs" in info:  # the episode ended: its own last state, not the reset
            for i in np.flatnonzero(info["_final_obs"]):
                true_next[i] = info["final_obs"][i]
        rows.append((obs, actions, true_next))
        obs = next_obs
    return tuple(np.concatenate(part) for part in zip(*rows, strict=True))


@functools.cache  # the same transitions for every kind
def keydoor_transitions() -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Transitions of random play (the key's side of the wall, door shut) and the expert's
    transitions once the door is open: states random play never reaches."""
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    rng = np.random.default_rng(0)
    seen = transitions(envs, lambda: rng.integers(4, size=4), 64)
    door_shut = seen[2][:, 9] == 0
    seen = tuple(part[door_shut] for part in seen)
    expert = ScriptedExpert(envs)
    played = transitions(envs, expert, 60)
    door_open = played[2][:, 9] == 1
    new = tuple(part[door_open] for part in played)
    assert len(seen[0]) > 200 and len(new[0]) > 20
    return seen, new


# Rounds of learning from the same states (ICM's encoder keeps moving its targets: more).
@pytest.mark.parametrize("kind, rounds", [("rnd", 15), ("icm", 50), ("count", 30)])
def test_intrinsic_reward_falls_for_seen_states_and_stays_high_for_new_ones(kind, rounds):
    seen, new = keydoor_transitions()
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    agent = make_agent("ppo", envs, {"curiosity": kind, "curiosity_epochs": 4}, seed=0)
    curiosity = agent.curiosity
    if curiosity.obs_normalizer is not None:  # RND: statistics from the seen states
        curiosity.obs_normalizer.stats.update(seen[2])
    before = curiosity.intrinsic_rewards(*seen).mean()
    for _ in range(rounds):  # the same states, again and again
        if kind == "count":
            curiosity.intrinsic_rewards(*seen)  # counting is count's learning
        else:
            curiosity.learn(*seen, agent.np_random)
    after_seen = curiosity.intrinsic_rewards(*seen).mean()
    after_new = curiosity.intrinsic_rewards(*new).mean()
    assert after_seen < 0.5 * before
    assert after_new > 5 * after_seen


@pytest.mark.parametrize("kind, passes", [("icm", 4), ("rnd", 1)])
def test_each_kind_learns_its_own_number_of_passes_unless_told(kind, passes):
    # ICM's forward model must keep up with an encoder that moves: four passes by default.
    seen, _ = keydoor_transitions()
    n = 256  # one minibatch, so each pass is one Adam step
    batch = tuple(part[:n] for part in seen)
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    for settings, expected in [({}, passes), ({"curiosity_epochs": 2}, 2)]:
        agent = make_agent("ppo", envs, {"curiosity": kind, **settings}, seed=0)
        agent.curiosity.learn(*batch, agent.np_random)
        steps = {int(s["step"]) for s in agent.curiosity.optimizer.state.values()}
        assert steps == {expected}


@pytest.mark.parametrize("kind, default", [("icm", 0.5), ("rnd", 1.0), ("count", 1.0)])
def test_each_kind_weighs_its_intrinsic_advantage_by_its_own_default_unless_told(kind, default):
    # ICM's intrinsic advantage counts half by default (its surprise would otherwise outweigh the
    # task once found), RND's and count's fully: A = extrinsic_coef A_E + intrinsic_coef A_I.
    def advantages(settings: dict) -> np.ndarray:
        envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
        agent = make_agent("ppo", envs, {"curiosity": kind, "n_steps": 16, **settings}, seed=0)
        agent.collector.reset(seed=0)
        return agent.train_batch(agent.rollout(16), gae_lambda=0.95).advantages.numpy()

    by_default = advantages({})
    np.testing.assert_allclose(by_default, advantages({"intrinsic_coef": default}), rtol=1e-6)
    assert not np.allclose(by_default, advantages({"intrinsic_coef": 2 * default}))


@pytest.mark.parametrize(
    "kind, settings, at_start, at_three_quarters",
    [
        ("icm", {}, 0.5, 0.125),  # ICM's own schedule: linear, to 0 at the end of the budget
        ("icm", {"intrinsic_schedule": "constant"}, 0.5, 0.5),
        ("icm", {"extrinsic_coef": 0}, 0.5, 0.5),  # curiosity alone: nothing to hand over to
        ("rnd", {"rnd_warmup_steps": 0}, 1.0, 1.0),
        ("count", {"intrinsic_schedule": "linear", "intrinsic_coef": 2}, 2.0, 0.5),
    ],
)
def test_the_intrinsic_weight_follows_its_schedule(kind, settings, at_start, at_three_quarters):
    envs = make_vector_env(KEYDOOR, 2, reward_mode="sparse")
    agent = make_agent("a2c", envs, {"curiosity": kind, "n_steps": 8, **settings}, seed=0)
    agent.learn(32)  # two updates of 16 steps: at the start of the budget and at its half
    curiosity = agent.curiosity
    assert curiosity.intrinsic_weight(1.0) == at_start
    assert curiosity.intrinsic_weight(0.25) == at_three_quarters
    assert agent.progress_remaining == 0.5  # where the last update of the budget stood


def test_a_linear_schedule_without_extrinsic_reward_is_refused():
    envs = make_vector_env(KEYDOOR, 2, reward_mode="sparse")
    settings = {"curiosity": "icm", "extrinsic_coef": 0, "intrinsic_schedule": "linear"}
    with pytest.raises(ConfigError, match="use intrinsic_schedule=constant"):
        make_agent("ppo", envs, settings)


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_intrinsic_return_runs_across_episode_ends_extrinsic_stops(mode, toy_envs):
    # CountEnv: reward 1 every step, terminates after 2 steps, obs = the step count.
    envs = toy_envs.count_envs(2, mode, limit=10, terminate_at=2)
    settings = {"curiosity": "count", "normalize_intrinsic": False, "n_steps": 8}
    agent = make_agent("ppo", envs, settings, seed=0)
    with torch.no_grad():  # a critic that expects some intrinsic return everywhere
        agent.policy.value_head.bias[1] = 0.5
    agent.collector.reset(seed=0)
    batch = agent.rollout(8)
    # One-step targets (lambda 0): G = r + gamma V(s_{t+1}), V(s_{t+1}) = 0 after a termination.
    data = agent.train_batch(batch, gae_lambda=0.0)
    valid = batch.valid.reshape(-1)
    returns = np.full((len(valid), 2), np.nan)
    returns[valid] = data.returns.numpy()
    returns = returns.reshape(*batch.valid.shape, 2)
    # The intrinsic rewards the count bonus gave, recomputed: 1/sqrt(N) in the same order.
    counter = StateCounter(envs.single_observation_space.shape, 0.01)
    intrinsic = np.zeros(batch.valid.size)
    next_obs = batch.next_obs.reshape(-1, 1)
    intrinsic[valid] = 1 / np.sqrt(counter.visit(next_obs[valid]))
    intrinsic = intrinsic.reshape(batch.valid.shape)
    with torch.no_grad():
        v_int = agent.policy.value(torch.from_numpy(batch.obs.reshape(-1, 1)))[:, 1].numpy()
    v_int = v_int.reshape(batch.valid.shape)
    ends = np.argwhere(batch.terminated[:-1])
    assert len(ends) >= 4
    gamma_i = agent.config.intrinsic_gamma
    for t, i in ends:
        assert returns[t, i, 0] == pytest.approx(batch.rewards[t, i])  # extrinsic: it ended
        # Intrinsic: bootstrapped from V_I of the state the stream goes on in.
        expected = intrinsic[t, i] + gamma_i * v_int[t + 1, i]
        assert returns[t, i, 1] == pytest.approx(expected, rel=1e-4)
        assert abs(v_int[t + 1, i]) > 1e-4  # so the two differ


@pytest.mark.parametrize("mode", [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP])
def test_per_episode_counts_pay_every_episode_for_what_is_new_in_it(mode, toy_envs):
    # CountEnv, truncated after 3 steps: every episode visits the same states 1, 2, 3, once each.
    envs = toy_envs.count_envs(2, mode, limit=3)
    mean_bonus = {}
    for per_episode in (False, True):
        settings = {"curiosity": "count", "normalize_intrinsic": False, "n_steps": 12}
        agent = make_agent("ppo", envs, {**settings, "count_per_episode": per_episode}, seed=0)
        agent.collector.reset(seed=0)
        curiosity = agent.curiosity
        _, logged = curiosity.train_batch(agent, agent.rollout(12), 0.99, 0.95)
        mean_bonus[per_episode] = logged["curiosity/intrinsic_reward_mean"]
    assert mean_bonus[True] == 1.0  # new in its own episode every time: 1 / sqrt(1)
    assert mean_bonus[False] < 0.8  # counted over all episodes: 1 / sqrt(k) in the k-th


def test_per_episode_counts_fall_for_a_state_seen_again_in_the_same_episode():
    # Random moves on KeyDoor-16x16 bump into walls and step back: states repeat in an episode.
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    settings = {"curiosity": "count", "normalize_intrinsic": False, "count_per_episode": True}
    agent = make_agent("ppo", envs, {**settings, "n_steps": 64}, seed=0)
    agent.collector.reset(seed=0)
    batch = agent.rollout(64)
    _, logged = agent.curiosity.train_batch(agent, batch, 0.99, 0.95)
    # By hand: each env's visits of this episode, its counts emptied when its episode ends.
    bonus = []
    for n in range(4):
        counts: dict[bytes, int] = {}
        for t in np.flatnonzero(batch.valid[:, n]):
            key = batch.next_obs[t, n].tobytes()
            counts[key] = counts.get(key, 0) + 1
            bonus.append(1 / np.sqrt(counts[key]))
            if batch.terminated[t, n] or batch.truncated[t, n]:
                counts.clear()
    assert np.mean(bonus) < 0.9  # some states were seen again
    assert logged["curiosity/intrinsic_reward_mean"] == pytest.approx(np.mean(bonus))


def test_curiosity_alone_learns_nothing_from_the_env_reward():
    envs = make_vector_env("rlsuite/KeyDoor-8x8-v0", 4, reward_mode="shaped")
    agent = make_agent("ppo", envs, {"curiosity": "rnd", "extrinsic_coef": 0}, seed=0)
    batch = agent.rollout(32)
    assert batch.rewards.any()  # shaping pays at (almost) every step
    state = copy.deepcopy(agent.curiosity.state_dict())
    first = agent.train_batch(batch, 0.95)
    agent.curiosity.load_state_dict(state)  # the same module for the second call
    second = agent.train_batch(batch._replace(rewards=batch.rewards * -5 + 1), 0.95)
    torch.testing.assert_close(first.advantages, second.advantages)


class SmallViewEnv(gym.Env):
    """A 7x7x3 uint8 view, as MiniGrid's ImgObsWrapper gives: one pixel a cell."""

    observation_space = gym.spaces.Box(0, 255, (7, 7, 3), np.uint8)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.integers(0, 11, (7, 7, 3), dtype=np.uint8), {}

    def step(self, action):
        self.t += 1
        obs = self.np_random.integers(0, 11, (7, 7, 3), dtype=np.uint8)
        return obs, float(action == 0), False, self.t >= 10, {}


@pytest.mark.parametrize("kind", ["icm", "rnd"])
def test_small_images_get_a_cnn(kind):
    envs = gym.vector.SyncVectorEnv([SmallViewEnv] * 2)
    settings = {"curiosity": kind, "n_steps": 16, "batch_size": 16, "n_epochs": 1}
    agent = make_agent("ppo", envs, settings, seed=0)
    agent.learn(64)
    assert isinstance(agent.policy.encoder, SmallCNNEncoder)
    cnn = agent.curiosity.module.phi if kind == "icm" else agent.curiosity.module.target
    assert isinstance(cnn.cnn, SmallCNNEncoder)
    assert agent.visitation_heatmap() is None  # not a grid game it can read positions from


@pytest.mark.parametrize("kind", ["rnd", "icm"])
def test_rewards_in_numpy_equal_torchs(kind):
    seen, _ = keydoor_transitions()
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    module = make_agent("ppo", envs, {"curiosity": kind}, seed=0).curiosity.module
    assert module.numpy_ready()  # MLPs on the CPU
    obs, actions, next_obs = (x[:100] for x in seen)  # a small batch: numpy
    with torch.no_grad():
        if kind == "icm":
            expected = module.intrinsic_reward(*map(torch.from_numpy, (obs, actions, next_obs)))
            got = module.intrinsic_reward_numpy(obs, actions, next_obs)
        else:
            expected = module.intrinsic_reward(torch.from_numpy(next_obs))
            got = module.intrinsic_reward_numpy(next_obs)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["icm", "rnd"])
def test_gradients_in_numpy_equal_autograds(kind):
    """The chain rule written out (``gradient_numpy``) against autograd on ``loss``: the same
    losses and the same gradient for every trained weight: ICM's encoder too (which learns
    through the inverse model only), RND's predictor and not its fixed target."""
    seen, _ = keydoor_transitions()
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    curiosity = make_agent("ppo", envs, {"curiosity": kind}, seed=0).curiosity
    module = curiosity.module
    assert curiosity.numpy_gradient  # what training uses for these MLPs
    with torch.no_grad():  # moved off their initial values, so that no layer is special
        for p in module.parameters():
            p.add_(0.05 * torch.randn_like(p))
    obs, actions, next_obs = (x[:256] for x in seen)
    inputs = (obs, actions, next_obs) if kind == "icm" else (next_obs,)
    grads, losses = module.gradient_numpy(*inputs)
    module.zero_grad()
    loss, expected = module.loss(*map(torch.from_numpy, inputs))
    loss.backward()
    for tag, value in expected.items():
        assert losses[tag] == pytest.approx(value.item(), rel=1e-5)
    trained = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
    assert len(grads) == len(trained) and len(trained) == (14 if kind == "icm" else 10)
    for (name, p), grad in zip(trained, grads, strict=True):
        assert grad.shape == p.shape
        np.testing.assert_allclose(grad, p.grad.numpy(), rtol=1e-4, atol=1e-7, err_msg=name)
        assert np.abs(grad).max() > 0, name  # every trained layer learns, phi's included


def test_a_checkpoint_from_before_the_flat_theta_continues_as_it_would_have():
    # Checkpoints written before the module's weights became one flat vector hold Adam's
    # state weight by weight; loaded now, training goes on exactly as the per-weight Adam would.
    seen, _ = keydoor_transitions()
    batch = tuple(part[:256] for part in seen)
    envs = make_vector_env(KEYDOOR, 4, reward_mode="sparse")
    settings = {"curiosity": "icm", "curiosity_epochs": 1}
    old = make_agent("ppo", envs, settings, seed=0).curiosity
    weights = list(old.module.parameters())
    # The old way: torch's Adam over the weights and biases one by one.
    old.optimizer = torch.optim.Adam(weights, lr=old.settings.curiosity_learning_rate)
    for seed in (1, 2):
        old.learn(*batch, np.random.default_rng(seed))
    saved = old.state_dict()
    assert len(saved["optimizer"]["state"]) == len(weights) > 1  # one state per weight and bias

    new = make_agent("ppo", envs, settings, seed=0).curiosity
    new.load_state_dict(saved)
    for part in (old, new):
        part.learn(*batch, np.random.default_rng(3))
    for got, expected in zip(new.module.parameters(), weights, strict=True):
        torch.testing.assert_close(got, expected)
