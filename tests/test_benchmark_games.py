"""benchmarks/games_learning.py, the script behind the README's rlsuite-beside-SB3 table: SB3 gets
the run's settings, its resumable save takes a run up where it stopped, and one quick row runs
end to end into the table."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "games_learning.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("games_learning", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_sb3_gets_every_rows_settings(bench):
    """For every row, SB3's PPO or A2C is built with the settings rlsuite train resolves: a
    translation slip would race SB3 on other settings than ours."""
    for row in bench.all_rows():
        config = bench.run_config(row, seed=0, steps=None, scale=1.0, sparse=False)
        agent = config.agent_config
        model, normalizer = bench.make_sb3(config)
        assert type(model).__name__ == row.agent.upper(), row.name
        assert model.n_envs == config.n_envs, row.name
        for key in ("n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef", "max_grad_norm"):
            assert getattr(model, key) == agent[key], (row.name, key)
        assert model.normalize_advantage == agent["normalize_advantage"], row.name
        assert model.lr_schedule(1.0) == pytest.approx(agent["learning_rate"]), row.name
        if agent["lr_schedule"] == "linear":
            assert model.lr_schedule(0.5) == pytest.approx(agent["learning_rate"] / 2), row.name
        if row.agent == "ppo":
            assert (model.batch_size, model.n_epochs) == (agent["batch_size"], agent["n_epochs"])
            assert model.clip_range(1.0) == agent["clip_range"], row.name
        image = row.obs == "pixels"
        extractor = type(model.policy.features_extractor).__name__
        assert (extractor == "NatureCNN") == image, row.name
        wants_normalizer = agent["normalize_obs"] or agent["normalize_reward"]
        assert (normalizer is not None) == bool(wants_normalizer), row.name
        model.get_env().close()


def small_config(bench, steps):
    row = bench.Row("rlsuite/KeyDoor-5x5-v0", "symbolic", "ppo", 0.9)
    return bench.run_config(row, seed=0, steps=steps, scale=1.0, sparse=False)


def test_sb3_save_takes_the_run_up_where_it_stopped(bench, tmp_path, monkeypatch):
    """A run saved part way is taken up with its weights, step count and seconds; a save made
    with other settings is refused in one line."""
    monkeypatch.setattr(bench, "SB3_SAVE_EVERY", 256)
    config = small_config(bench, steps=2048)  # two updates: the last one's learning rate is 0
    bench.train_sb3(config, save_dir=tmp_path)
    saved = torch.load(tmp_path / "sb3_state.pt", weights_only=True)
    assert saved["num_timesteps"] >= config.steps

    model, normalizer = bench.make_sb3(config)
    save = bench.SB3Save(tmp_path, model, normalizer, config)
    save.load()
    assert model.num_timesteps == saved["num_timesteps"]
    assert save.seconds == pytest.approx(saved["seconds"])
    untrained = bench.make_sb3(config)[0].policy.state_dict()
    for name, weights in saved["policy"].items():
        assert torch.equal(model.policy.state_dict()[name], weights), name
    assert any(not torch.equal(untrained[k], w) for k, w in saved["policy"].items())

    other = small_config(bench, steps=4096)
    model, normalizer = bench.make_sb3(other)
    with pytest.raises(SystemExit, match="saved by a run with other settings \\(steps\\)"):
        bench.SB3Save(tmp_path, model, normalizer, other).load()


def test_a_quick_row_runs_both_sides_into_the_table(bench, tmp_path):
    """Both libraries train the same row briefly, are scored alike, and the table shows both
    with the ratio of their wall times."""
    row = bench.Row("rlsuite/KeyDoor-5x5-v0", "symbolic", "ppo", 0.9)
    config = small_config(bench, steps=2048)
    records = [bench.run_one(row, side, config, episodes=4) for side in ("rlsuite", "sb3")]
    for record in records:
        assert record["steps"] == 2048 and record["wall_s"] > 0
        assert 0.0 <= record["score"] <= 1.0
        json.dumps(record)  # --out writes each as one JSON line
    table = bench.markdown_table(records).splitlines()
    assert len(table) == 3 and table[2].startswith("| rlsuite/KeyDoor-5x5-v0 | symbolic | ppo")
    ours, theirs = (r["wall_s"] for r in records)
    assert f"| {theirs / ours:.2f}x |" in table[2]
