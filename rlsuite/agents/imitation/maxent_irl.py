"""Maximum-entropy inverse RL (Ziebart et al. 2008), exact, on the grid games.

The expert is modelled as soft-optimal under an unknown reward ``r_theta``: a trajectory's
probability is proportional to ``exp(sum_t r_theta(s_{t+1}))``. Maximising the demonstrations'
likelihood has the gradient of the lecture:

    grad = (expert feature counts) - (expected feature counts under the soft-optimal policy)

computed exactly for each demonstrated layout (grid_mdp.py enumerates its states):

1. **soft value iteration**, backwards over the episode's horizon T (the time limit):
   ``Q_t(s, a) = r(s') + gamma * V_{t+1}(s')`` (no future after a terminal move),
   ``V_t(s) = log sum_a exp Q_t(s, a)``, ``pi_t(a|s) = exp(Q_t(s, a) - V_t(s))``;
2. **expected state-visitation frequencies**, forwards from the episode's start state:
   ``D_{t+1}(s') = sum_{s, a} D_t(s) pi_t(a|s) [s -> s']`` (episodes that ended stop counting);
3. the reward's parameters take a step along ``sum_s (c_expert(s) - c_pi(s)) grad r(s)``.

The reward is a function of the game's changing state (the agent's cell, and in KeyDoor the key
and door flags), so it carries over to any layout: ``reward_model="linear"`` is linear in the
one-hot features of that state (a table), ``"network"`` a small MLP of it. The policy that acts
(``predict``, ``rlsuite eval``/``watch``) is a network distilled, by cross-entropy, from the
soft-optimal policy ``pi_0`` on the demonstrated layouts and on fresh ones.

``num_steps`` counts reward-gradient iterations here (no environment step is taken).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rlsuite import logger as tags
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.agents.imitation.bc import missing_demos
from rlsuite.agents.imitation.discriminator import mlp
from rlsuite.agents.imitation.grid_mdp import (
    MDP_VARIABLES,
    GridMDP,
    acting_states,
    build_mdp,
    game_env,
    variable_dims,
)
from rlsuite.config import (
    LAYER_SIZES,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    choice,
    setting,
)
from rlsuite.demos import Demonstrations
from rlsuite.errors import RlsuiteError
from rlsuite.logger import Logger

TRUE_REWARD_CORRELATION = "imitation/true_reward_correlation"  # a check, never learned from


@dataclass(frozen=True)
class MaxEntIRLConfig(PolicyNetworkSettings):
    """Maximum-entropy IRL's settings."""

    # "linear": linear in one-hot features of the state (a table); "network": a small MLP
    reward_model: str = setting("linear", choice("linear", "network"))
    reward_hidden_sizes: tuple[int, ...] = setting((32,), LAYER_SIZES)  # the network's widths
    reward_learning_rate: float = setting(0.05, POSITIVE)  # Adam step size of the reward
    l2: float = setting(0.01, NON_NEGATIVE)  # weight of the reward's L2 penalty (a prior at 0)
    gamma: float = setting(1.0, PROBABILITY)  # discount of the soft value iteration
    # Distillation of the soft-optimal policy into the acting network
    learning_rate: float = setting(3e-3, POSITIVE)  # Adam step size of the policy network
    lr_schedule: str = setting("constant", LR_SCHEDULE)
    distill_epochs: int = setting(5, NON_NEGATIVE_INT)  # full-batch steps per iteration
    distill_layouts: int = setting(8, NON_NEGATIVE_INT)  # fresh layouts solved per iteration
    max_grad_norm: float = setting(10.0, POSITIVE)
    n_eval_layouts: int = setting(16, POSITIVE_INT)  # layouts for the true-reward correlation


class StateReward(nn.Module):
    """r(s) from the state's variables: a table (one-hot features) or an MLP of them."""

    def __init__(self, dims: tuple[int, ...], model: str, hidden_sizes: tuple[int, ...]) -> None:
        super().__init__()
        self.dims, self.model = dims, model
        if model == "linear":
            self.theta = nn.Parameter(torch.zeros(int(np.prod(dims)), dtype=torch.float64))
        else:
            self.net = mlp(len(dims), hidden_sizes, "tanh").double()

    def forward(self, variables: np.ndarray) -> torch.Tensor:
        """(S,) rewards of states given as (S, V) integer variables."""
        if self.model == "linear":
            index = np.ravel_multi_index(variables.T, self.dims)
            return self.theta[torch.as_tensor(index)]
        scaled = variables / np.maximum(np.array(self.dims) - 1, 1)
        return self.net(torch.as_tensor(scaled, dtype=torch.float64)).squeeze(-1)


def soft_value_iteration(
    mdp: GridMDP, reward: np.ndarray, gamma: float, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """(pi (T, S, A), Q_0 (S, A)): the soft-optimal time-dependent policy for `horizon` steps.

    ``reward[s]`` is paid on arriving in s. Backwards from ``V_T = 0``.
    """
    arrive = reward[mdp.next_state]  # (S, A) r(s')
    continues = ~mdp.terminal
    value = np.zeros(mdp.n_states)
    policies = np.empty((horizon, *mdp.next_state.shape))
    q = arrive
    for t in reversed(range(horizon)):
        q = arrive + gamma * continues * value[mdp.next_state]  # (S, A)
        top = q.max(axis=1, keepdims=True)
        value = (top + np.log(np.exp(q - top).sum(axis=1, keepdims=True)))[:, 0]  # soft max
        policies[t] = np.exp(q - value[:, None])
    return policies, q


def expected_arrivals(mdp: GridMDP, policies: np.ndarray) -> np.ndarray:
    """(S,) expected number of arrivals in each state in an episode (the visitation frequency
    of the states the reward is paid for), from the start state, under `policies`."""
    n = mdp.n_states
    occupancy = np.zeros(n)
    occupancy[mdp.start] = 1.0
    arrivals = np.zeros(n)
    for pi in policies:
        flow = occupancy[:, None] * pi  # (S, A): probability of being in s and taking a
        moved = np.zeros(n)
        np.add.at(moved, mdp.next_state, flow)
        arrivals += moved
        # Episodes that ended (a terminal move) leave; the others are in their next state.
        occupancy = np.zeros(n)
        np.add.at(occupancy, mdp.next_state.ravel(), (flow * ~mdp.terminal).ravel())
    return arrivals


class MaxEntIRL(Agent):
    """Exact maximum-entropy IRL on a grid game, with a distilled acting policy."""

    name = "maxent-irl"
    description = "MaxEnt IRL: soft value iteration + visitation frequencies (grid games, --demos)"
    Config = MaxEntIRLConfig
    default_steps = 200  # reward-gradient iterations
    uses_critic = False
    uses_demos = True

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        config: Any = None,
        *,
        seed: int = 0,
        logger: Logger | None = None,
        device: str | torch.device = "cpu",
        demos: Demonstrations | None = None,
    ) -> None:
        super().__init__(envs, config, seed=seed, logger=logger, device=device)
        if logger is not None:
            logger.write_every = 1  # an iteration is a point on the curves
        self.demos = demos
        self.layout_rng = np.random.default_rng(seed + 3)  # the fresh layouts distilled on
        self.env: gym.Env | None = None
        self.mdps: dict[int, GridMDP] = {}
        # The reward's input sizes come from the game; an agent loaded to act (no demos) takes
        # them from its checkpoint (load_state_dict).
        dims = variable_dims(game_env(self.make_env()).game) if demos is not None else (1,)
        self.reward = StateReward(dims, self.config.reward_model, self.config.reward_hidden_sizes)
        self.reward_optimizer = torch.optim.Adam(
            self.reward.parameters(), lr=self.config.reward_learning_rate
        )
        if demos is not None:
            self.expert_counts = self.replay_demos(demos)

    def make_normalizers(self) -> tuple[None, None]:
        return None, None

    def make_env(self) -> gym.Env:
        """One env of the demonstrations' game, to enumerate layouts in (made once)."""
        if self.env is None:
            self.env = gym.make(self.demos.env_id, **self.demos.env_kwargs)
            game_env(self.env)  # a one-line error for a game without enumerable states
        return self.env

    def mdp(self, seed: int) -> GridMDP:
        if seed not in self.mdps:
            self.mdps[seed] = build_mdp(self.make_env(), seed)
        return self.mdps[seed]

    def replay_demos(self, demos: Demonstrations) -> dict[int, np.ndarray]:
        """Per seed, the expert's arrivals in each state: its episodes replayed in their layout."""
        if (demos.seeds < 0).any():
            raise RlsuiteError(
                "maxent-irl needs seeded demonstrations (each episode's layout is rebuilt from its "
                "reset seed); record them with `rlsuite demos` or `rlsuite expert --record`"
            )
        counts: dict[int, np.ndarray] = {}
        ends = np.append(demos.episode_starts[1:], len(demos.actions))
        for seed, start, end in zip(demos.seeds, demos.episode_starts, ends, strict=True):
            mdp = self.mdp(int(seed))
            state = mdp.start
            arrivals = counts.setdefault(int(seed), np.zeros(mdp.n_states))
            for t in range(start, end):
                if not np.allclose(mdp.obs[state], demos.observations[t]):
                    raise RlsuiteError(
                        f"demonstration step {t} does not replay in its layout (seed {seed}); "
                        "were they recorded with other env settings?"
                    )
                state = mdp.next_state[state, int(demos.actions[t])]
                arrivals[state] += 1
        return counts

    def steps_per_update(self) -> int:
        return 1

    def learn(self, total_steps: int, callback=None) -> Agent:
        if self.demos is None:
            raise missing_demos(type(self))
        return super().learn(total_steps, callback)

    def collect(self) -> None:
        return None  # the demonstrations and the model are all it learns from

    def update(self, batch: None) -> dict[str, float]:
        c = self.config
        # 1-3: the likelihood gradient, summed over the demonstrated layouts (episode-weighted).
        n_episodes = self.demos.n_episodes
        self.reward_optimizer.zero_grad()
        objective = torch.zeros((), dtype=torch.float64)
        gap = 0.0
        for seed, expert in self.expert_counts.items():
            mdp = self.mdp(seed)
            reward = self.reward(mdp.variables)  # (S,)
            policies, _ = soft_value_iteration(mdp, reward.detach().numpy(), c.gamma, mdp.horizon)
            episodes = len(np.flatnonzero(self.demos.seeds == seed))
            expected = episodes * expected_arrivals(mdp, policies)
            difference = torch.as_tensor(expert - expected)
            objective = objective + (difference * reward).sum() / n_episodes
            gap += float(np.abs(expert - expected).sum()) / n_episodes
        penalty = c.l2 * sum((p**2).sum() for p in self.reward.parameters())
        (-(objective - penalty)).backward()  # ascend the log-likelihood
        self.reward_optimizer.step()
        self.num_steps += 1
        metrics = {tags.FEATURE_GAP: gap, **self.distill()}
        metrics[TRUE_REWARD_CORRELATION] = self.true_reward_correlation()
        return metrics

    def soft_policy(self, mdp: GridMDP) -> np.ndarray:
        """pi_0(a|s) (S, A) under the current reward."""
        with torch.no_grad():
            reward = self.reward(mdp.variables).numpy()
        policies, _ = soft_value_iteration(mdp, reward, self.config.gamma, mdp.horizon)
        return policies[0]

    def distill(self) -> dict[str, float]:
        """Cross-entropy steps of the acting network toward pi_0 on demonstrated and fresh
        layouts (a goal state, where no action is taken, is left out)."""
        c = self.config
        if c.distill_epochs == 0:
            return {}
        seeds = list(self.expert_counts)
        seeds += [int(s) for s in self.layout_rng.integers(2**31, size=c.distill_layouts)]
        obs, targets = [], []
        for seed in seeds:
            mdp = self.mdp(seed)
            acting = acting_states(mdp)
            obs.append(mdp.obs[acting])
            targets.append(self.soft_policy(mdp)[acting])
        if len(self.mdps) > 4096:  # fresh layouts are not needed again
            self.mdps = {seed: self.mdps[seed] for seed in self.expert_counts}
        obs_t = torch.as_tensor(np.concatenate(obs), device=self.device)
        target_t = torch.as_tensor(np.concatenate(targets), dtype=torch.float32, device=self.device)
        for _ in range(c.distill_epochs):
            features, _ = self.policy.features(obs_t)
            logits = self.policy.policy_head(features)
            loss = -(target_t * torch.log_softmax(logits, -1)).sum(-1).mean()
            self.gradient_step(loss, {"distillation loss": loss})
        return {tags.BC_LOSS: loss.item()}

    def true_reward_correlation(self) -> float:
        """Pearson correlation of the learned r(s) with the game's sparse reward (1 on arriving at
        the goal) over the states of `n_eval_layouts` layouts: a check, never learned from."""
        learned, true = [], []
        for seed in range(10_000, 10_000 + self.config.n_eval_layouts):
            mdp = self.mdp(seed)
            with torch.no_grad():
                learned.append(self.reward(mdp.variables).numpy())
            arrival_reward = np.zeros(mdp.n_states)
            np.maximum.at(arrival_reward, mdp.next_state.ravel(), mdp.task_reward.ravel())
            true.append(arrival_reward)
        learned_all, true_all = np.concatenate(learned), np.concatenate(true)
        if learned_all.std() == 0 or true_all.std() == 0:
            return 0.0
        return float(np.corrcoef(learned_all, true_all)[0, 1])

    def state_reward(self, mdp: GridMDP) -> np.ndarray:
        """(S,) the learned reward of arriving in each state of `mdp` (for the reward maps)."""
        with torch.no_grad():
            return self.reward(mdp.variables).numpy()

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["reward"] = self.reward.state_dict()
        state["reward_optimizer"] = self.reward_optimizer.state_dict()
        state["reward_dims"] = list(self.reward.dims)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        dims = tuple(int(d) for d in state.get("reward_dims", self.reward.dims))
        if dims != self.reward.dims:  # an agent built without demonstrations (rlsuite.load)
            c = self.config
            self.reward = StateReward(dims, c.reward_model, c.reward_hidden_sizes)
            self.reward_optimizer = torch.optim.Adam(
                self.reward.parameters(), lr=c.reward_learning_rate
            )
        self.reward.load_state_dict(state["reward"])
        self.reward_optimizer.load_state_dict(state["reward_optimizer"])


__all__ = ["MDP_VARIABLES", "MaxEntIRL", "expected_arrivals", "soft_value_iteration"]
