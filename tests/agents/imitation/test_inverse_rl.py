"""GAIL, AIRL and maximum-entropy IRL: the discriminator tells expert from random, the learned
reward is logged and drawn, the env's reward is never learned from, and MaxEnt IRL's exact
computations agree with their definitions."""

from __future__ import annotations

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rlsuite
from rlsuite.agents import make_agent
from rlsuite.agents.imitation.grid_mdp import GridMDP
from rlsuite.agents.imitation.maxent_irl import expected_arrivals, soft_value_iteration
from rlsuite.cli import main
from rlsuite.demos import load_demos
from rlsuite.vector import make_vector_env

KEYDOOR = "rlsuite/KeyDoor-5x5-v0"


def test_gail_discriminator_separates_expert_from_random_transitions(keydoor_demos):
    envs = make_vector_env(KEYDOOR, 4)
    settings = {"disc_learning_rate": 1e-2, "actor_settings": {"n_steps": 64}}  # 256 per rollout
    agent = make_agent("gail", envs, settings, demos=load_demos(keydoor_demos))
    agent.collector.reset(seed=0)
    random_transitions = agent.agent_transitions(agent.collect())  # the untrained actor: random
    for _ in range(50):
        metrics = agent.train_discriminator(random_transitions)
    fresh = agent.agent_transitions(agent.collect())  # random transitions it has not seen

    # On a 3x3 grid a random move is often exactly the expert's; only the others can be told.
    def pairs(data):
        return [
            (o.tobytes(), int(a)) for o, a in zip(data["obs"].numpy(), data["actions"], strict=True)
        ]

    expert_pairs = set(pairs(agent.expert))
    differs = torch.tensor([pair not in expert_pairs for pair in pairs(fresh)])
    with torch.no_grad():
        expert_logits = agent.logits(agent.expert)
        random_logits = agent.logits(fresh)[differs]
    assert differs.sum() > 50
    assert (expert_logits > 0).float().mean() > 0.8
    assert (random_logits < 0).float().mean() > 0.9
    assert metrics["imitation/disc_acc_expert"] > 0.7 and metrics["imitation/disc_acc_agent"] > 0.7
    envs.close()


@pytest.mark.parametrize("agent", ["gail", "airl"])
def test_adversarial_runs_log_the_discriminator_and_never_learn_from_env_reward(
    agent, keydoor_demos, tmp_path
):
    run = tmp_path / agent
    args = ["train", KEYDOOR, "--agent", agent, "--demos", str(keydoor_demos), "--steps", "2048"]
    args += ["--n-envs", "4", "--no-progress", "--set", "actor=a2c"]
    assert main([*args, "--run-dir", str(run)]) == 0
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    scalars = events.Tags()["scalars"]
    for tag in (
        "imitation/disc_loss",
        "imitation/disc_acc_expert",
        "imitation/disc_acc_agent",
        "imitation/learned_reward_mean",
        "train/policy_loss",  # the actor's own update (a2c's)
    ):
        assert tag in scalars
    loaded = rlsuite.load(run)
    assert loaded.name == agent and loaded.actor.name == "a2c"
    # The reward map: a PNG and a TensorBoard image.
    assert main(["reward", str(run), "--plot", str(tmp_path / "r.png"), "--seed", "2"]) == 0
    assert imageio.imread(tmp_path / "r.png").shape[2] == 3
    events = EventAccumulator(str(run / "tb"), size_guidance={"images": 0})
    events.Reload()
    assert "imitation/reward" in events.Tags()["images"]


def test_the_actor_learns_from_the_discriminator_not_from_the_env(keydoor_demos):
    """Replacing the env's rewards by anything leaves the actor's update unchanged: it reads
    only the learned reward."""
    demos = load_demos(keydoor_demos)
    results = []
    for reward_mode in ("sparse", "shaped"):  # two different env rewards, same games
        envs = make_vector_env(KEYDOOR, 4, reward_mode=reward_mode)
        agent = make_agent("airl", envs, {"actor": "a2c"}, seed=1, demos=demos)
        agent.learn(400)
        results.append(torch.cat([p.detach().reshape(-1) for p in agent.policy.parameters()]))
        envs.close()
    torch.testing.assert_close(results[0], results[1], rtol=0, atol=0)


def test_soft_value_iteration_and_visitation_frequencies_on_a_chain():
    # A chain 0 -> 1 -> 2 (goal): action 0 moves right, action 1 stays.
    next_state = np.array([[1, 0], [2, 1], [2, 2]])
    terminal = np.array([[False, False], [True, False], [True, True]])
    mdp = GridMDP(
        "Maze",
        np.zeros((3, 2), np.int64),
        next_state,
        terminal,
        np.zeros((3, 2)),
        np.zeros((3, 1)),
        0,
        np.zeros((1, 1)),
        3,
    )
    policies, q = soft_value_iteration(mdp, np.zeros(3), gamma=1.0, horizon=3)
    np.testing.assert_allclose(policies.sum(axis=2), 1.0)
    # Zero reward: staying keeps options open (more futures), so soft Q prefers it at t = 0.
    assert policies[0, 0, 1] > policies[0, 0, 0]
    arrivals = expected_arrivals(mdp, policies)
    # One step is taken per time step until the goal is entered, which ends the episode.
    steps = arrivals.sum()
    assert 1.0 <= steps <= 3.0
    # A large reward at the goal, and a horizon with no time to spare: the walk is certain.
    policies, _ = soft_value_iteration(mdp, np.array([0.0, 0.0, 20.0]), 1.0, 2)
    np.testing.assert_allclose(expected_arrivals(mdp, policies), [0, 1, 1], atol=1e-6)
    # With a step to spare, MaxEnt counts trajectories: "wait, then go" is one more way to reach
    # the goal, so the first step is right with probability 2/3, not 1.
    policies, _ = soft_value_iteration(mdp, np.array([0.0, 0.0, 20.0]), 1.0, 3)
    np.testing.assert_allclose(policies[0, 0], [2 / 3, 1 / 3], atol=1e-6)
    np.testing.assert_allclose(expected_arrivals(mdp, policies), [1 / 3, 4 / 3, 1], atol=1e-6)


def test_maxent_irl_recovers_keydoors_reward_and_reaches_the_goal(keydoor_demos, tmp_path):
    run = tmp_path / "maxent"
    args = ["train", KEYDOOR, "--agent", "maxent-irl", "--demos", str(keydoor_demos)]
    args += [
        "--steps",
        "60",
        "--eval-every",
        "60",
        "--set",
        "n_eval_layouts=4",
        "distill_layouts=2",
    ]
    args += ["--no-progress", "--run-dir", str(run)]
    assert main(args) == 0
    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    assert events.Scalars("imitation/true_reward_correlation")[-1].value >= 0.8
    gaps = [e.value for e in events.Scalars("imitation/feature_count_gap")]
    assert gaps[-1] < gaps[0] / 4  # expected feature counts approach the expert's
    assert events.Scalars("eval/success_rate")[-1].value == 1.0
    assert main(["reward", str(run), "--plot", str(tmp_path / "m.png")]) == 0


def test_maxent_irl_refuses_a_game_without_enumerable_states(tmp_path, capsys):
    path = tmp_path / "racer.npz"
    assert (
        main(
            ["demos", "rlsuite/Racer-v0", "--expert", "scripted", "--episodes", "1"]
            + ["-o", str(path)]
        )
        == 0
    )
    code = main(
        ["train", "rlsuite/Racer-v0", "--agent", "maxent-irl", "--demos", str(path)]
        + ["--run-dir", str(tmp_path / "run")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "not a grid game" in err and not (tmp_path / "run").exists()


def test_maxent_irl_refuses_stacked_observations(tmp_path, capsys):
    """A stack holds past states too, which the enumeration of single states cannot give."""
    path = tmp_path / "stacked.npz"
    demos = ["demos", "rlsuite/KeyDoor-5x5-v0", "--expert", "scripted", "--episodes", "2"]
    assert main([*demos, "--env-kwargs", "frame_stack=2", "-o", str(path)]) == 0
    code = main(
        ["train", "rlsuite/KeyDoor-5x5-v0", "--agent", "maxent-irl", "--demos", str(path)]
        + ["--env-kwargs", "frame_stack=2", "--run-dir", str(tmp_path / "run")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "take no frame_stack" in err and not (tmp_path / "run").exists()
