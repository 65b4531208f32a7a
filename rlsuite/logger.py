"""The one place that knows tag names: TensorBoard scalars under Stable-Baselines3's names.

Agents call ``record(tag, value)`` for what they measure and ``record_episode`` when an episode
ends; ``dump(step)`` writes the means on the environment-step axis, so rlsuite's curves and SB3's
open side by side in one TensorBoard.

Two returns, where an env reports ``info["task_reward"]`` (rlsuite's games: the sparse task
reward, whatever ``reward_mode`` the agent trains on):

- training curves keep SB3's meaning: ``rollout/ep_rew_mean`` is the return of the env's reward
  (what the agent trains on, before any normalisation); ``rollout/ep_task_rew_mean`` is the task
  return beside it;
- evaluations judge the policy by the task: ``eval/mean_reward`` is the mean task return (the
  env's return where it reports no task reward, as in SB3), so a sparse and a shaped run of one
  game share a chart; ``eval/mean_env_reward`` is the env's return beside it.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import numpy as np

# SB3's tag names (stable_baselines3/common/on_policy_algorithm.py and base_class.py).
EP_REW_MEAN = "rollout/ep_rew_mean"
EP_LEN_MEAN = "rollout/ep_len_mean"
# Ours: the mean task return (info["task_reward"]) of the same episodes, where the env reports it.
EP_TASK_REW_MEAN = "rollout/ep_task_rew_mean"
SUCCESS_RATE = "rollout/success_rate"
FPS = "time/fps"
POLICY_LOSS = "train/policy_loss"
VALUE_LOSS = "train/value_loss"
ENTROPY_LOSS = "train/entropy_loss"
EXPLAINED_VARIANCE = "train/explained_variance"
LEARNING_RATE = "train/learning_rate"
# Ours: the gradient's global norm before clipping (mean over the gradient steps of a point);
# above the agent's max_grad_norm the step was scaled down to it. Recorded by clip_and_step.
GRAD_NORM = "train/grad_norm"
# The task return where the env reports info["task_reward"], else the env's return (see above).
EVAL_MEAN_REWARD = "eval/mean_reward"
# Ours: the env's return in evaluation, logged where eval/mean_reward is the task return instead.
EVAL_MEAN_ENV_REWARD = "eval/mean_env_reward"
EVAL_SUCCESS_RATE = "eval/success_rate"
EVAL_MEAN_EP_LENGTH = "eval/mean_ep_length"
# Ours, for the imitation agents (rlsuite/agents/imitation): behavior cloning's supervised loss
# and accuracy (on the training split, and on the held-out validation split), the states an
# expert labelled (demonstrations plus DAgger's queries), the discriminator of GAIL/AIRL, the
# learned reward the actor is trained on, and MaxEnt IRL's feature-count gap.
BC_LOSS = "imitation/bc_loss"
BC_ACCURACY = "imitation/bc_accuracy"
VAL_LOSS = "imitation/val_loss"
VAL_ACCURACY = "imitation/val_accuracy"
EXPERT_LABELS = "imitation/expert_labels"
DISC_LOSS = "imitation/disc_loss"
DISC_ACC_EXPERT = "imitation/disc_acc_expert"
DISC_ACC_AGENT = "imitation/disc_acc_agent"
LEARNED_REWARD = "imitation/learned_reward_mean"
FEATURE_GAP = "imitation/feature_count_gap"
REWARD_IMAGE = "imitation/reward"  # an image: the learned reward over the grid

# Ours: curiosity (rlsuite/agents/curiosity.py). The mean intrinsic reward of a rollout, before
# its normalisation; the modules' losses; an image of where the agent went (grid games).
INTRINSIC_REWARD_MEAN = "curiosity/intrinsic_reward_mean"
INTRINSIC_COEF = "curiosity/intrinsic_coef"  # the weight of A_I, as scheduled
FORWARD_LOSS = "curiosity/forward_loss"  # ICM
INVERSE_LOSS = "curiosity/inverse_loss"  # ICM
PREDICTOR_LOSS = "curiosity/predictor_loss"  # RND
VISITATION_HEATMAP = "curiosity/visitation_heatmap"  # image, at every evaluation


class Logger:
    """Collects scalars between dumps and writes their means to TensorBoard.

    ``log_dir=None`` keeps everything in memory (``latest``), which is what tests and library
    users who do not want files get. ``purge_step`` (when resuming at step N, pass N + 1) makes
    TensorBoard hide events an earlier, crashed session wrote at or after that step.
    """

    def __init__(
        self,
        log_dir: str | Path | None = None,
        window: int = 100,
        purge_step: int | None = None,
        write_every: int = 1000,
    ) -> None:
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.purge_step = purge_step
        # Write a point at most every `write_every` env steps (SB3's A2C: every 100 updates):
        # a TensorBoard write costs more than an A2C update on CartPole.
        self.write_every = write_every
        self._writer = None
        self._pending: dict[str, list[float]] = defaultdict(list)
        # The last `window` finished episodes, as SB3's ep_info_buffer (maxlen 100).
        self.episode_returns: deque[float] = deque(maxlen=window)
        self.episode_lengths: deque[int] = deque(maxlen=window)
        self.episode_successes: deque[float] = deque(maxlen=window)
        self.episode_task_returns: deque[float] = deque(maxlen=window)
        self.latest: dict[str, float] = {}
        self._last_dump_time: float | None = None
        self._last_dump_step: int | None = None

    @property
    def writer(self):
        if self._writer is None and self.log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.log_dir), purge_step=self.purge_step)
        return self._writer

    def record(self, tag: str, value: float) -> None:
        """Remember one value of `tag`; `dump` writes the mean of all values since the last dump."""
        self._pending[tag].append(float(value))

    def record_episode(
        self,
        episode_return: float,
        length: int,
        success: bool | None,
        task_return: float | None = None,
    ) -> None:
        """Add one finished episode to the rolling window behind rollout/ep_*.

        `success` and `task_return` are None where the env does not report them.
        """
        self.episode_returns.append(float(episode_return))
        self.episode_lengths.append(int(length))
        if success is not None:
            self.episode_successes.append(float(success))
        if task_return is not None:
            self.episode_task_returns.append(float(task_return))

    def dump(self, step: int, force: bool = False) -> dict[str, float]:
        """Write the pending means and the rollout/time summaries at environment step `step`.

        Called after every update; it writes only when `step` crosses a multiple of
        ``write_every`` (or when `force`d, at the end of a run), with the means of everything
        recorded since the last write. Returns what it wrote ({} when it waited).
        """
        previous = self._last_dump_step
        crossed = previous is None or step // self.write_every > previous // self.write_every
        if not (crossed or force) or step == previous:
            return {}
        now = time.perf_counter()
        values = {tag: float(np.mean(v)) for tag, v in self._pending.items() if v}
        self._pending.clear()
        if self.episode_returns:
            values[EP_REW_MEAN] = float(np.mean(self.episode_returns))
            values[EP_LEN_MEAN] = float(np.mean(self.episode_lengths))
        if self.episode_task_returns:
            values[EP_TASK_REW_MEAN] = float(np.mean(self.episode_task_returns))
        if self.episode_successes:
            values[SUCCESS_RATE] = float(np.mean(self.episode_successes))
        if self._last_dump_time is not None and step > self._last_dump_step:
            values[FPS] = (step - self._last_dump_step) / max(now - self._last_dump_time, 1e-9)
        self._last_dump_time, self._last_dump_step = now, step
        if self.writer is not None:
            for tag, value in values.items():
                self.writer.add_scalar(tag, value, global_step=step)
        self.latest.update(values)
        return values

    def write_now(self, tag: str, value: float, step: int) -> None:
        """Write one scalar immediately (evaluation results, which happen between dumps)."""
        self.latest[tag] = float(value)
        if self.writer is not None:
            self.writer.add_scalar(tag, float(value), global_step=step)

    def write_image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Write one ``(H, W, 3)`` uint8 image now (TensorBoard's IMAGES tab)."""
        if self.writer is not None:
            self.writer.add_image(tag, image, global_step=step, dataformats="HWC")

    def log_hparams(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Record the run's hyperparameters (TensorBoard's HPARAMS tab)."""
        if self.writer is None:
            return
        scalar = int | float | str | bool
        flat = {k: v if isinstance(v, scalar) else str(v) for k, v in hparams.items()}
        self.writer.add_hparams(flat, metrics, run_name=".")

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # Checkpoints carry the episode window so resumed curves continue where they stopped.
    def state_dict(self) -> dict[str, Any]:
        return {
            "episode_returns": list(self.episode_returns),
            "episode_lengths": list(self.episode_lengths),
            "episode_successes": list(self.episode_successes),
            "episode_task_returns": list(self.episode_task_returns),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.episode_returns.extend(state["episode_returns"])
        self.episode_lengths.extend(state["episode_lengths"])
        self.episode_successes.extend(state["episode_successes"])
        self.episode_task_returns.extend(state.get("episode_task_returns", []))  # newer key
