"""A2C: synchronous advantage actor-critic over a vector env (the lecture's version 4).

Mnih et al. 2016, "Asynchronous Methods for Deep Reinforcement Learning" (A3C), run
synchronously as OpenAI baselines' A2C. Each update:

1. collect ``n_steps`` steps in each of ``n_envs`` envs with the current policy;
2. advantage ``A_t`` = n-step return - V(s_t), bootstrapped from V at the end of the rollout, or
   GAE(lambda) when ``gae_lambda < 1`` (``gae_lambda=1`` is exactly the n-step advantage);
3. one gradient step on ``-log pi(a_t|s_t) A_t + vf_coef (G_t - V(s_t))^2 - ent_coef H``;
   one loss trains actor and critic (on a shared trunk with ``shared_trunk=True``).

The data is used once and thrown away: A2C is strictly on-policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlsuite.agents.actor_critic import BACKPROP, actor_critic_step
from rlsuite.agents.base import LR_SCHEDULE, Agent, PolicyNetworkSettings
from rlsuite.agents.common.optim import RMSprop
from rlsuite.agents.common.rollout import RolloutBatch
from rlsuite.agents.curiosity import CuriositySettings
from rlsuite.config import (
    DECAY,
    FLAG,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    optional,
    setting,
)


@dataclass(frozen=True)
class A2CConfig(CuriositySettings, PolicyNetworkSettings):
    """A2C's settings: Stable-Baselines3's A2C defaults except the five marked "tuned".

    With SB3's values (lr 7e-4 constant, one shared trunk, raw advantages, no entropy bonus)
    CartPole reached only 120-220 after 100k steps on 5 seeds; the tuned values reach 475 on 19
    of 20 seeds (benchmarks/a2c_vs_sb3_cartpole.py).
    """

    n_steps: int = setting(5, POSITIVE_INT)  # steps per env per update: the n of the n-step return
    gamma: float = setting(0.99, PROBABILITY)  # discount
    # GAE's lambda; 1.0 = the plain n-step advantage of the A3C paper
    gae_lambda: float = setting(1.0, PROBABILITY)
    learning_rate: float = setting(2e-3, POSITIVE)  # RMSprop step size (tuned; SB3: 7e-4)
    # "constant" or "linear" (decays to 0 at the learn() total). Tuned (SB3: constant): the small
    # late steps keep a policy that has reached the time limit from drifting off it.
    lr_schedule: str = setting("linear", LR_SCHEDULE)
    rms_alpha: float = setting(0.99, DECAY)  # RMSprop smoothing, as in the A3C paper
    # RMSprop epsilon (baselines' value; torch's 1e-8 is unstable here)
    rms_eps: float = setting(1e-5, POSITIVE)
    # TensorFlow's RMSprop (SB3's RMSpropTFLike): v starts at 1, eps inside the sqrt (optim.py).
    rms_tf_like: bool = setting(False, FLAG)
    # Weight of the entropy bonus (tuned, as OpenAI baselines' A2C; SB3: 0.0). Keeping the
    # policy from turning deterministic too early took CartPole from 7 to 10 of seeds 0-9.
    ent_coef: float = setting(0.01, NON_NEGATIVE)
    # Weight of the critic's loss in the actor-critic loss
    vf_coef: float = setting(0.5, NON_NEGATIVE)
    max_grad_norm: float = setting(0.5, POSITIVE)  # clip the gradient's global norm
    # Rescale advantages to mean 0, std 1 per update (tuned; SB3: False): keeps the policy
    # gradient's size steady while returns grow from 10 to 500.
    normalize_advantage: bool = setting(True, FLAG)
    # Vectors: actor and critic on two trunks of the same shape (tuned; SB3's MlpPolicy does the
    # same). One shared trunk works (`--set shared_trunk=true`) but the critic's large regression
    # gradients, 40 samples at a time, shake the policy's features. Images: one shared CNN (as
    # SB3's CnnPolicy). None picks by observation; true/false force.
    shared_trunk: bool | None = setting(None, optional(FLAG))
    # How the loss is differentiated: "numpy" (backpropagation written out, common/backprop.py;
    # MLP nets only, others use autograd) or "autograd" (torch's). The same gradient; "numpy"
    # makes an update several times cheaper at 40 samples.
    backprop: str = setting("numpy", BACKPROP)
    # Running mean/std normalisation as SB3's VecNormalize (common/normalize.py): observations to
    # mean 0, std 1 (not for images), rewards divided by the std of the discounted return.
    normalize_obs: bool = setting(False, FLAG)
    normalize_reward: bool = setting(False, FLAG)


class A2C(Agent):
    """Synchronous advantage actor-critic with n-step returns or GAE."""

    name = "a2c"
    description = "A2C: advantage actor-critic, n-step returns/GAE over parallel envs (v4)"
    Config = A2CConfig
    default_steps = 500_000

    def make_optimizer(self) -> RMSprop:
        # RMSprop as in the A3C paper and SB3's A2C (written out in common/optim.py).
        c = self.config
        return RMSprop(self.theta, c.learning_rate, c.rms_alpha, c.rms_eps, tf_like=c.rms_tf_like)

    def steps_per_update(self) -> int:
        return self.config.n_steps * self.envs.num_envs

    def collect(self) -> RolloutBatch:
        return self.rollout(self.config.n_steps)

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        # Advantages and critic targets; truncations bootstrap from V(s_final) (returns.py);
        # with curiosity, the intrinsic reward's too (base.train_batch, curiosity.py).
        data = self.train_batch(batch, self.config.gae_lambda)
        # One step on -A log pi + vf_coef (G - V)^2 - ent_coef H (actor_critic.py).
        return actor_critic_step(self, data)
