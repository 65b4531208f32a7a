"""The learned reward in pictures: ``rlsuite reward RUN_DIR --plot reward.png``.

For a grid game the reward of *arriving* in each cell is drawn as a heatmap over the layout of
one episode (its reset seed), one panel per value of the game's flags (KeyDoor: no key / key,
door locked / open), blue for the lowest reward, red for the highest; walls are grey and cells
that cannot be reached in that panel's stage are black. The same picture is written to the run's
TensorBoard as the image ``imitation/reward``.

What is drawn, per agent: maxent-irl, its r(s); airl, its recovered g(s) of the state arrived
in; gail, the policy reward of the moves into the cell, averaged over those moves.
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from rlsuite import logger as tags
from rlsuite.agents.imitation.grid_mdp import MDP_VARIABLES, GridMDP, build_mdp
from rlsuite.envs import grid
from rlsuite.errors import RlsuiteError

CELL = 24  # pixels per grid cell
GAP = 8  # pixels between panels
LOW, MID, HIGH = np.array([40, 80, 220]), np.array([245, 245, 245]), np.array([220, 40, 40])


def state_rewards(agent, mdp: GridMDP) -> np.ndarray:
    """(S,) the agent's learned reward of arriving in each state of `mdp` (NaN: never arrived)."""
    name = agent.name
    if name == "maxent-irl":
        return agent.state_reward(mdp)
    if name == "airl":
        return agent.recovered_reward(mdp.obs)
    if name == "gail":
        return gail_arrival_rewards(agent, mdp)
    raise RlsuiteError(f"{name} learns no reward; reward maps are for gail, airl and maxent-irl")


@torch.no_grad()
def gail_arrival_rewards(agent, mdp: GridMDP) -> np.ndarray:
    """GAIL's reward is of (s, a): each state gets the mean over the moves that lead into it."""
    n_states, n_actions = mdp.next_state.shape
    obs = torch.as_tensor(np.repeat(mdp.obs, n_actions, axis=0), device=agent.device)
    actions = torch.as_tensor(np.tile(np.arange(n_actions), n_states), device=agent.device)
    next_obs = torch.as_tensor(mdp.obs[mdp.next_state.ravel()], device=agent.device)
    dones = torch.as_tensor(mdp.terminal.ravel(), device=agent.device)
    logits = agent.discriminator(obs, actions, next_obs, dones, torch.zeros(len(obs)))
    from rlsuite.agents.imitation.discriminator import policy_reward

    rewards = policy_reward(logits, agent.config.policy_reward).cpu().numpy()
    total, count = np.zeros(n_states), np.zeros(n_states)
    moves = mdp.next_state.ravel() != np.repeat(np.arange(n_states), n_actions)
    np.add.at(total, mdp.next_state.ravel()[moves], rewards[moves])
    np.add.at(count, mdp.next_state.ravel()[moves], 1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def reward_image(mdp: GridMDP, rewards: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(H, W, 3) uint8 heatmap panels, and a line describing each panel."""
    size = mdp.cells.shape[0]
    names = MDP_VARIABLES[mdp.game][2:]  # the flags after (x, y)
    stages = sorted({tuple(v[2:]) for v in mdp.variables})
    finite = rewards[np.isfinite(rewards)]
    low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    panels, captions = [], []
    for stage in stages:
        values = np.full((size, size), np.nan)
        for (x, y, *flags), value in zip(mdp.variables, rewards, strict=True):
            if tuple(flags) == stage:
                values[y, x] = value
        colours = colour_map(values, low, high)
        colours[mdp.cells == grid.WALL] = 128
        panels.append(np.repeat(np.repeat(colours, CELL, axis=0), CELL, axis=1))
        captions.append(", ".join(f"{n}={f}" for n, f in zip(names, stage, strict=True)) or "all")
    gap = np.full((size * CELL, GAP, 3), 255, dtype=np.uint8)
    image = panels[0]
    for panel in panels[1:]:
        image = np.concatenate([image, gap, panel], axis=1)
    return image, [f"{c} (blue {low:.3g} .. red {high:.3g})" for c in captions]


def colour_map(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """(H, W, 3) uint8: blue (low) -> white -> red (high); NaN (not reachable) black."""
    t = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)[..., None]
    colours = np.where(t < 0.5, LOW + (MID - LOW) * (t * 2), MID + (HIGH - MID) * (t * 2 - 1))
    colours[~np.isfinite(values)] = 0
    return colours.astype(np.uint8)


def plot_run_reward(run_dir: str | Path, png: str | Path, seed: int = 0) -> Path:
    """Draw the reward a run learned over the layout of reset seed `seed` to `png`, and log it
    to the run's TensorBoard as ``imitation/reward``."""
    import imageio.v2 as imageio

    from rlsuite.playback import load_run

    png = Path(png)
    if png.suffix.lower() != ".png":
        raise RlsuiteError(f"--plot writes a .png image, got {png.name!r}")
    agent, envs, config, _ = load_run(run_dir, device="cpu")
    envs.close()
    env = gym.make(config.env_id, **config.env_kwargs)
    try:
        mdp = build_mdp(env, seed)
    finally:
        env.close()
    image, captions = reward_image(mdp, state_rewards(agent, mdp))
    png.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(png, image)
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(Path(run_dir) / "tb")) as writer:
        writer.add_image(tags.REWARD_IMAGE, image, agent.num_steps, dataformats="HWC")
    for number, caption in enumerate(captions, 1):
        print(f"panel {number}: {caption}")
    return png
