"""What every game shares: batched rules, reward modes, spaces, seeding, the Env and the VectorEnv.

A game is written once, as a :class:`Game`: its rules act on a *batch* of games held as a dict of
numpy arrays with a leading batch dimension. Two thin Gymnasium classes serve it:

- :class:`GameEnv`, a ``gymnasium.Env``: the batch of one (``gym.make("rlsuite/KeyDoor-8x8-v0")``).
- :class:`GameVectorEnv`, a ``gymnasium.vector.VectorEnv`` registered as the ``vector_entry_point``:
  ``gym.make_vec(id, num_envs=1024, vectorization_mode="vector_entry_point")`` steps all games in
  one numpy call. It autoresets in the same step (``AutoresetMode.SAME_STEP``): the observation of a
  game that just ended is already the first one of its next episode, and the true last observation
  is in ``info["final_obs"]``.

Seeding: game ``i`` of a vector env reset with ``seed=s`` plays exactly the episodes of a single
env reset with ``seed=s + i`` (Gymnasium's convention for vector envs). Each episode gets its layout
seed from a per-game ``np.random.Generator``, and randomness during play comes from a per-game
counter-based stream (:func:`next_uniform`), so a game never depends on its neighbours in the batch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from rlsuite.envs import render as _render
from rlsuite.envs.shaping import event_bonus, potential_scale, potential_shaping

State = dict[str, np.ndarray]
REWARD_MODES = ("sparse", "shaped")
OBS_MODES = ("symbolic", "pixels")
RGB_ARRAY_SCALE = 4  # render_mode="rgb_array" frames are the 64x64 observation drawn 4x larger

# --------------------------------------------------------------------------------------------
# Per-game random streams: splitmix64 (Steele, Lea & Flood 2014) over a uint64 array, one
# state per game. Vectorised, and game i's numbers depend only on game i's seed.
# --------------------------------------------------------------------------------------------
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def next_uniform(rng: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """Advance the streams of all games (or of games `idx`) in place; one U[0, 1) draw each."""
    x = rng if idx is None else rng[idx]
    x = x + _GOLDEN  # uint64 arithmetic wraps around, as splitmix64 wants
    if idx is None:
        rng[...] = x
    else:
        rng[idx] = x
    z = (x ^ (x >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)  # / 2**53


def next_integers(rng: np.ndarray, high: int | np.ndarray, idx: np.ndarray | None = None):
    """Advance the streams; one integer in [0, high) each."""
    return np.minimum((next_uniform(rng, idx) * high).astype(np.int64), np.asarray(high) - 1)


def take(state: State, idx: np.ndarray) -> State:
    """The sub-batch of games `idx` (a copy), e.g. to observe the games that just ended."""
    return {key: value[idx] for key, value in state.items()}


@dataclass
class Transition:
    """What one batched step of the rules produced, per game (all arrays have shape (B,))."""

    task_reward: np.ndarray  # the sparse task reward: what the game is really about
    terminated: np.ndarray  # bool: the episode ended inside the game (won, lost)
    success: np.ndarray  # bool: the task was solved (reported as info["is_success"])
    # Named counts of what happened (kills, crashes, pickups), read by the rule tests and tools;
    # shaped mode pays ``Game.event_bonus`` for some of them (see rlsuite.envs.shaping).
    events: dict[str, np.ndarray] = field(default_factory=dict)


class Game:
    """The rules of one game over a batch of games. Subclass once per game.

    A subclass sets the class attributes, validates its keyword arguments in ``__init__`` (raise
    ``ValueError`` naming the valid values) and writes the methods below over arrays with a
    leading batch dimension B. ``state["t"]`` (steps taken this episode) and ``state["rng"]`` (the
    per-game random stream, see :func:`next_uniform`) are kept by the core and may be read.
    """

    action_meanings: ClassVar[tuple[str, ...]] = ()
    # Shaped mode: reward per named event, for games where potential shaping alone cannot guide
    # (see rlsuite.envs.shaping); no failing episode may collect more of it than a success.
    event_bonus: ClassVar[dict[str, float]] = {}
    render_fps: ClassVar[int] = 10
    frame_size: ClassVar[int] = 64  # pixel observations are (64, 64, 3) uint8

    @property
    def n_actions(self) -> int:
        return len(self.action_meanings)

    def symbolic_space(self) -> spaces.Box:
        """The observation space of ``obs_mode="symbolic"`` (a float32 Box)."""
        raise NotImplementedError

    def new_state(self, n: int) -> State:
        """Allocate the arrays of `n` games (contents are set by ``reset_games``)."""
        raise NotImplementedError

    def reset_games(self, state: State, idx: np.ndarray) -> None:
        """Start new episodes in games `idx` (their random streams are already seeded)."""
        raise NotImplementedError

    def step(self, state: State, actions: np.ndarray) -> Transition:
        """Apply one action per game, in place."""
        raise NotImplementedError

    def progress(self, state: State) -> np.ndarray:
        """How far each game is along the way to success, in [0, 1] (1 = about to succeed).

        Shaped mode uses the potential ``Phi = scale * progress`` (see ``rlsuite.envs.shaping``).
        """
        raise NotImplementedError

    def shaping_horizon(self) -> int:
        """Steps within which the scripted expert always succeeds (it sets the shaping's scale)."""
        raise NotImplementedError

    def symbolic(self, state: State) -> np.ndarray:
        """(B, *symbolic_space.shape) float32 observations."""
        raise NotImplementedError

    def draw(self, state: State) -> np.ndarray:
        """(B, 64, 64, 3) uint8 frames."""
        raise NotImplementedError

    def expert_actions(self, state: State) -> np.ndarray:
        """The scripted expert's action in every game of the batch (reads the true state)."""
        raise NotImplementedError

    def status(self, state: State, i: int) -> str:
        """A short score line for game `i`, shown under the picture in a window."""
        return ""


def new_games(game: Game, n: int) -> State:
    """The arrays of `n` games, with the core's own ``t``, ``rng`` and ``phi`` (not yet reset)."""
    state = game.new_state(n)
    state["t"] = np.zeros(n, dtype=np.int64)  # steps taken this episode
    state["rng"] = np.zeros(n, dtype=np.uint64)  # each game's random stream (next_uniform)
    state["phi"] = np.zeros(n, dtype=np.float64)  # Phi(s) of the current state, for shaping
    return state


def start_games(game: Game, stream_seeds: np.ndarray) -> State:
    """New episodes in ``len(stream_seeds)`` games, game i's random stream seeded stream_seeds[i].

    For driving the rules directly (rule tests, tools), without an Env around them.
    """
    state = new_games(game, len(stream_seeds))
    state["rng"][:] = np.asarray(stream_seeds, dtype=np.uint64)
    game.reset_games(state, np.arange(len(stream_seeds)))
    return state


def resolve_game(game: str | type[Game], **kwargs: Any) -> Game:
    """Build a Game from its class or its "module:Class" path (how the registry names it)."""
    if isinstance(game, str):
        module_name, _, class_name = game.partition(":")
        game = getattr(importlib.import_module(module_name), class_name)
    return game(**kwargs)


def push_frame(stack: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """A new frame stack: `stack` (B, H, W, 3 K) without its oldest frame, `frame` (B, H, W, 3)
    appended (channels-last, oldest first, as SB3's VecFrameStack).

    Three times faster than ``np.concatenate`` on the channel axis, which copies 3 bytes at a
    time: one contiguous copy shifted by 3 bytes moves every pixel's frames one slot older (the
    last slot of each pixel then holds the next pixel's oldest bytes), and the new frame is
    written into those last slots as 3-byte items.
    """
    new = np.empty_like(stack)
    new.reshape(-1)[:-3] = stack.reshape(-1)[3:]
    k = stack.shape[-1] // 3
    slots = new.reshape(-1, k, 3).view(np.dtype("V3"))[..., 0]  # (B*H*W, K) 3-byte items
    slots[:, -1] = np.ascontiguousarray(frame).reshape(-1, 3).view(np.dtype("V3"))[:, 0]
    return new


def push_vector(stack: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """A new stack of symbolic observations: `stack` (B, K D) without its oldest vector,
    `vector` (B, D) appended (oldest first, as for frames)."""
    return np.concatenate([stack[:, vector.shape[1] :], vector], axis=1)


def _check_choice(name: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid values: {', '.join(valid)}")


def _check_options(shaping_gamma: float, frame_stack: int) -> None:
    if isinstance(shaping_gamma, bool) or not isinstance(shaping_gamma, (int, float)):
        raise ValueError(f"shaping_gamma must be a number in (0, 1], got {shaping_gamma!r}")
    if not 0.0 < shaping_gamma <= 1.0:
        raise ValueError(
            f"shaping_gamma must be in (0, 1] (the agent's discount), got {shaping_gamma}"
        )
    if isinstance(frame_stack, bool) or not isinstance(frame_stack, (int, np.integer)):
        raise ValueError(f"frame_stack must be a whole number of observations, got {frame_stack!r}")
    if frame_stack < 1:
        raise ValueError(f"frame_stack must be at least 1, got {frame_stack}")


class _Batch:
    """The machinery the single env and the vector env share: state, seeding, rewards, obs.

    With ``frame_stack`` K > 1 the observation is ``self.stack``: the last K observations of
    every game, oldest first: frames on the channel axis, (B, 64, 64, 3 K) uint8, or symbolic
    vectors end to end, (B, K D) float32. It is a plain array attribute, so ``rlsuite.envstate``
    saves and restores it with the game state. An array handed out as an observation is never
    written again: each step and each reset builds a new stack.
    """

    def __init__(
        self,
        game: Game,
        n: int,
        reward_mode: str,
        obs_mode: str,
        shaping_gamma: float,
        frame_stack: int = 1,
    ) -> None:
        _check_choice("reward_mode", reward_mode, REWARD_MODES)
        _check_choice("obs_mode", obs_mode, OBS_MODES)
        _check_options(shaping_gamma, frame_stack)
        self.game = game
        self.reward_mode = reward_mode
        self.obs_mode = obs_mode
        self.shaping_gamma = float(shaping_gamma)
        # Phi = potential_scale * progress: the largest scale at which waiting never pays more
        # than succeeding (rlsuite.envs.shaping).
        self.potential_scale = potential_scale(self.shaping_gamma, game.shaping_horizon())
        self.frame_stack = int(frame_stack)
        self.state = new_games(game, n)
        self.stack = None
        if self.frame_stack > 1:
            space = self.observation_space()
            self.stack = np.zeros((n, *space.shape), dtype=space.dtype)

    def observation_space(self) -> spaces.Space:
        k = self.frame_stack
        if self.obs_mode == "pixels":
            size = self.game.frame_size
            return spaces.Box(0, 255, (size, size, 3 * k), dtype=np.uint8)
        one = self.game.symbolic_space()  # (D,): K of them end to end
        return spaces.Box(np.tile(one.low, k), np.tile(one.high, k), dtype=one.dtype)

    def current(self, state: State) -> np.ndarray:
        """What the games show now, one observation each, without the stack."""
        if self.obs_mode == "pixels":
            return self.game.draw(state)
        return self.game.symbolic(state)

    def potential(self, state: State) -> np.ndarray:
        """Phi(s) per game: the scaled progress, in [0, potential_scale]."""
        return self.potential_scale * np.clip(self.game.progress(state), 0.0, 1.0)

    def reset_games(self, idx: np.ndarray, episode_seeds: np.ndarray) -> None:
        self.state["rng"][idx] = episode_seeds.astype(np.uint64)
        self.state["t"][idx] = 0
        self.game.reset_games(self.state, idx)
        if self.reward_mode == "shaped":
            self.state["phi"][idx] = self.potential(take(self.state, idx))
        if self.stack is not None:
            # A new episode's stack is its first observation, repeated. Written into a copy: the
            # old stack may be an observation the caller still holds.
            first = self.current(take(self.state, idx))  # (k, 64, 64, 3) or (k, D)
            stack = self.stack.copy()
            stack[idx] = np.tile(first, (1,) * (first.ndim - 1) + (self.frame_stack,))
            self.stack = stack

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, Transition]:
        self.state["t"] += 1
        result = self.game.step(self.state, actions)
        reward = result.task_reward.astype(np.float64)
        if self.reward_mode == "shaped":
            next_phi = self.potential(self.state)
            reward = reward + potential_shaping(
                self.state["phi"], next_phi, result.terminated, self.shaping_gamma
            )
            reward = reward + event_bonus(result.events, self.game.event_bonus)
            self.state["phi"] = next_phi
        if self.stack is not None:
            push = push_frame if self.obs_mode == "pixels" else push_vector
            self.stack = push(self.stack, self.current(self.state))
        return reward, result

    def observe(self) -> np.ndarray:
        """The observation of every game."""
        if self.stack is not None:
            return self.stack
        return self.current(self.state)

    def observe_games(self, idx: np.ndarray) -> np.ndarray:
        """The observations of games `idx` (a copy), e.g. the last ones of episodes that ended."""
        if self.stack is not None:
            return self.stack[idx]
        return self.current(take(self.state, idx))


def _episode_seed(generator: np.random.Generator) -> np.uint64:
    return np.uint64(generator.integers(0, 2**63))


class GameEnv(gym.Env):
    """One game as a ``gymnasium.Env`` (the batch of one).

    Args:
        game: the Game class or its "module:Class" path (set by the registry).
        reward_mode: "sparse" (the task reward only) or "shaped" (plus potential-based shaping,
            see ``rlsuite.envs.shaping``). ``info["task_reward"]`` is the sparse reward either way.
        obs_mode: "symbolic" (compact float vector) or "pixels" ((64, 64, 3) uint8 frames).
        render_mode: None, "rgb_array" or "human" (a pygame window).
        shaping_gamma: the gamma of F = gamma Phi(s') - Phi(s), in (0, 1]. It must be the
            agent's discount, or the shaping changes which policy is best: ``rlsuite train``
            passes the agent's ``gamma``. It also sets the potential's scale.
        frame_stack: observe the last K observations, oldest first: pixel frames stacked on the
            channel axis, (64, 64, 3 K) uint8, or symbolic vectors end to end, (K D,) float32 (a
            memory of the last moves, for games whose one observation does not say where the
            agent has been). A new episode starts with its first observation repeated K times.
        **game_kwargs: the game's own options (grid size, rooms, ...).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array"], "render_fps": 10}
    reward_modes: ClassVar[tuple[str, ...]] = REWARD_MODES  # what `rlsuite envs` lists
    obs_modes: ClassVar[tuple[str, ...]] = OBS_MODES

    def __init__(
        self,
        game: str | type[Game],
        reward_mode: str = "sparse",
        obs_mode: str = "symbolic",
        render_mode: str | None = None,
        shaping_gamma: float = 0.99,
        frame_stack: int = 1,
        **game_kwargs: Any,
    ) -> None:
        self.game = resolve_game(game, **game_kwargs)
        self._batch = _Batch(self.game, 1, reward_mode, obs_mode, shaping_gamma, frame_stack)
        if render_mode is not None:
            _check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.game.render_fps}
        self.observation_space = self._batch.observation_space()
        self.action_space = spaces.Discrete(self.game.n_actions)
        self.reward_mode, self.obs_mode = reward_mode, obs_mode
        self.frame_stack = self._batch.frame_stack
        self._window: _render.Window | None = None
        self._episode_return = 0.0

    @property
    def state(self) -> State:
        """The game's arrays (a batch of one); read it, e.g. in a scripted expert."""
        return self._batch.state

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._batch.reset_games(np.array([0]), np.array([_episode_seed(self.np_random)]))
        self._episode_return = 0.0
        if self.render_mode == "human":
            self.render()
        return self._batch.observe()[0], {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(
                f"action {action!r} is outside the action space {self.action_space}; "
                f"valid actions: "
                + ", ".join(f"{i}={m}" for i, m in enumerate(self.game.action_meanings))
            )
        reward, result = self._batch.step(np.array([int(action)]))
        self._episode_return += float(reward[0])
        info = {"task_reward": float(result.task_reward[0]), "is_success": bool(result.success[0])}
        if self.render_mode == "human":
            self.render()
        return self._batch.observe()[0], float(reward[0]), bool(result.terminated[0]), False, info

    def expert_action(self) -> int:
        """What the game's scripted expert would do now."""
        return int(self.game.expert_actions(self.state)[0])

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        frame = self.game.draw(self.state)[0]
        if self.render_mode == "rgb_array":
            return _render.upscale(frame, RGB_ARRAY_SCALE)
        if self._window is None:
            name = self.spec.id if self.spec is not None else type(self.game).__name__
            self._window = _render.Window(title=name, fps=self.metadata["render_fps"])
        status = self.game.status(self.state, 0)
        text = f"step {int(self.state['t'][0])}  return {self._episode_return:.2f}  {status}"
        self._window.show(frame, text)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def __getstate__(self):
        # A pygame window cannot be pickled; the copy opens its own when it renders.
        state = self.__dict__.copy()
        state["_window"] = None
        return state


class GameVectorEnv(gym.vector.VectorEnv):
    """`num_envs` games stepped together in one numpy call (registered ``vector_entry_point``).

    Autoreset happens in the same step (``AutoresetMode.SAME_STEP``): for a game that ended,
    ``info["final_obs"][i]`` holds its last observation and ``info["final_info"]`` its last
    ``task_reward`` and ``is_success``; the returned observation already starts the next episode.
    With ``frame_stack`` K, ``info["final_obs"][i]`` is the finished episode's last K frames and
    the returned observation the new episode's first frame, repeated K times.
    Episodes are cut at ``max_episode_steps`` with ``truncated=True``, as ``TimeLimit`` does: on
    the step that reaches the limit ``truncated`` is True even when the game also terminated.
    Other arguments are those of :class:`GameEnv`.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 10,
        "autoreset_mode": AutoresetMode.SAME_STEP,
    }

    def __init__(
        self,
        game: str | type[Game],
        num_envs: int = 1,
        reward_mode: str = "sparse",
        obs_mode: str = "symbolic",
        render_mode: str | None = None,
        max_episode_steps: int | None = None,
        shaping_gamma: float = 0.99,
        frame_stack: int = 1,
        **game_kwargs: Any,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.game = resolve_game(game, **game_kwargs)
        self._batch = _Batch(self.game, num_envs, reward_mode, obs_mode, shaping_gamma, frame_stack)
        if render_mode is not None:
            _check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]))
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": self.game.render_fps}
        self.num_envs = num_envs
        self.max_episode_steps = max_episode_steps
        self.reward_mode, self.obs_mode = reward_mode, obs_mode
        self.frame_stack = self._batch.frame_stack
        self.single_observation_space = self._batch.observation_space()
        self.single_action_space = spaces.Discrete(self.game.n_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._game_generators = [seeding.np_random(None)[0] for _ in range(num_envs)]
        self._all = np.arange(num_envs)
        self._every = np.ones(num_envs, dtype=bool)
        self._every.flags.writeable = False

    @property
    def state(self) -> State:
        """The arrays of all games (leading dimension num_envs)."""
        return self._batch.state

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
            if len(seeds) != self.num_envs:
                raise ValueError(f"got {len(seeds)} seeds for {self.num_envs} environments")
            self._game_generators = [seeding.np_random(s)[0] for s in seeds]
            self._np_random, self._np_random_seed = seeding.np_random(seeds[0])
        idx = self._all
        if options is not None and "reset_mask" in options:
            idx = np.flatnonzero(options["reset_mask"])
        self._reset_games(idx)
        return self._batch.observe(), {}

    def _reset_games(self, idx: np.ndarray) -> None:
        seeds = np.array([_episode_seed(self._game_generators[i]) for i in idx], dtype=np.uint64)
        self._batch.reset_games(idx, seeds)

    def step(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(
                f"expected {self.num_envs} actions, got an array of shape {actions.shape}"
            )
        n = self.game.n_actions
        bad = (actions < 0) | (actions >= n) | (actions != actions.astype(np.int64))
        if bad.any():
            raise ValueError(
                f"action {actions[bad][0]!r} is outside the action space "
                f"Discrete({self.game.n_actions}); valid actions: 0..{self.game.n_actions - 1}"
            )
        reward, result = self._batch.step(actions.astype(np.int64))
        terminated = result.terminated.astype(bool)
        if self.max_episode_steps is not None:
            # As Gymnasium's TimeLimit: the limit truncates whatever else happened on the step.
            truncated = self.state["t"] >= self.max_episode_steps
        else:
            truncated = np.zeros(self.num_envs, dtype=bool)
        info: dict[str, Any] = {
            "task_reward": result.task_reward.astype(np.float64),
            "_task_reward": self._every,
            "is_success": result.success.astype(bool),
            "_is_success": self._every,
        }
        done = terminated | truncated
        if done.any():
            idx = np.flatnonzero(done)
            final = self._batch.observe_games(idx)
            final_obs = np.empty(self.num_envs, dtype=object)
            for k, i in enumerate(idx):
                final_obs[i] = final[k]
            info["final_obs"], info["_final_obs"] = final_obs, done
            info["final_info"] = {
                "task_reward": np.where(done, info["task_reward"], 0.0),
                "_task_reward": done,
                "is_success": info["is_success"] & done,
                "_is_success": done,
            }
            info["_final_info"] = done
            self._reset_games(idx)
        return self._batch.observe(), reward, terminated, truncated, info

    def expert_actions(self) -> np.ndarray:
        """What the scripted expert would do now, in every game."""
        return self.game.expert_actions(self.state)

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        frames = self.game.draw(self.state)
        return tuple(_render.upscale(f, RGB_ARRAY_SCALE) for f in frames)
