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

from rlsuite.agents.actor_critic import actor_critic_step, check_backprop
from rlsuite.agents.base import Agent
from rlsuite.agents.common.optim import RMSprop
from rlsuite.agents.common.returns import rollout_gae
from rlsuite.agents.common.rollout import RolloutBatch, to_train_batch


@dataclass(frozen=True)
class A2CConfig:
    """A2C's settings: Stable-Baselines3's A2C defaults except the five marked "tuned".

    With SB3's values (lr 7e-4 constant, one shared trunk, raw advantages, no entropy bonus)
    CartPole reached only 120-220 after 100k steps on 5 seeds; the tuned values reach 475 on 19
    of 20 seeds (benchmarks/a2c_vs_sb3_cartpole.py).
    """

    n_envs: int = 8  # parallel envs in the vector env
    default_steps: int = 500_000  # training budget when none is given (env steps, all envs)
    n_steps: int = 5  # steps per env per update: the n of the n-step return
    gamma: float = 0.99  # discount
    gae_lambda: float = 1.0  # GAE's lambda; 1.0 = the plain n-step advantage of the A3C paper
    learning_rate: float = 2e-3  # RMSprop step size (tuned; SB3: 7e-4)
    # "constant" or "linear" (decays to 0 at the learn() total). Tuned (SB3: constant): the small
    # late steps keep a policy that has reached the time limit from drifting off it.
    lr_schedule: str = "linear"
    rms_alpha: float = 0.99  # RMSprop smoothing, as in the A3C paper
    rms_eps: float = 1e-5  # RMSprop epsilon (baselines' value; torch's 1e-8 is unstable here)
    # Weight of the entropy bonus (tuned, as OpenAI baselines' A2C; SB3: 0.0). Keeping the
    # policy from turning deterministic too early took CartPole from 7 to 10 of seeds 0-9.
    ent_coef: float = 0.01
    vf_coef: float = 0.5  # weight of the critic's loss in the actor-critic loss
    max_grad_norm: float = 0.5  # clip the gradient's global norm
    # Rescale advantages to mean 0, std 1 per update (tuned; SB3: False): keeps the policy
    # gradient's size steady while returns grow from 10 to 500.
    normalize_advantage: bool = True
    hidden_sizes: tuple[int, ...] = (64, 64)  # MLP trunk layer widths (vector observations)
    activation: str = "tanh"  # "tanh" or "relu"
    # Actor and critic on two trunks of the same shape (tuned; SB3's MlpPolicy does the same).
    # One shared trunk works (`--set shared_trunk=true`) but the critic's large regression
    # gradients, 40 samples at a time, shake the policy's features.
    shared_trunk: bool = False
    log_std_init: float = 0.0  # initial log std of the Gaussian policy (Box actions)
    # How the loss is differentiated: "numpy" (backpropagation written out, common/backprop.py;
    # MLP nets only, others use autograd) or "autograd" (torch's). The same gradient; "numpy"
    # makes an update several times cheaper at 40 samples.
    backprop: str = "numpy"
    # Running mean/std normalisation as SB3's VecNormalize (common/normalize.py): observations to
    # mean 0, std 1 (not for images), rewards divided by the std of the discounted return.
    normalize_obs: bool = False
    normalize_reward: bool = False
    torch_threads: int = 1  # torch.set_num_threads; small nets are fastest on one thread

    def __post_init__(self) -> None:
        check_backprop(self.backprop)


class A2C(Agent):
    """Synchronous advantage actor-critic with n-step returns or GAE."""

    name = "a2c"
    description = "A2C: advantage actor-critic, n-step returns/GAE over parallel envs (v4)"
    Config = A2CConfig

    def make_optimizer(self) -> RMSprop:
        # RMSprop as in the A3C paper and SB3's A2C (written out in common/optim.py).
        c = self.config
        return RMSprop(self.theta, lr=c.learning_rate, alpha=c.rms_alpha, eps=c.rms_eps)

    def collect(self) -> RolloutBatch:
        return self.rollout(self.config.n_steps)

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        c = self.config
        # Advantages and critic targets; truncations bootstrap from V(s_final) (returns.py).
        advantages, returns = rollout_gae(batch, c.gamma, c.gae_lambda)
        # One step on -A log pi + vf_coef (G - V)^2 - ent_coef H (actor_critic.py).
        return actor_critic_step(self, to_train_batch(batch, advantages, returns))
