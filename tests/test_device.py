"""`--device auto|cpu|cuda`: every agent and net on a GPU, through the torch paths that the GPU
uses (checked here on the CPU against the numpy paths they replace); GPU tests skip without one."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import rlsuite
from rlsuite.agents import AGENTS, make_agent
from rlsuite.agents.common.nets import ActorCriticNet
from rlsuite.agents.common.optim import RMSprop, flatten_parameters
from rlsuite.agents.curiosity import CURIOSITY_KINDS
from rlsuite.cli import main
from rlsuite.config import resolve_config
from rlsuite.errors import ConfigError
from rlsuite.runs import resolve_device
from rlsuite.supervised.registry import MODELS
from rlsuite.vector import make_vector_env

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no GPU here")
GAME = "rlsuite/KeyDoor-5x5-v0"


# -- the torch paths a GPU takes, on the CPU -------------------------------------------------------


@pytest.mark.parametrize("shared_trunk", [True, False])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_acting_in_torch_gives_the_numpy_acting_numbers(env_id, shared_trunk):
    envs = make_vector_env(env_id, 2)
    torch.manual_seed(0)
    spaces = envs.single_observation_space, envs.single_action_space
    net = ActorCriticNet(*spaces, (16, 8), shared_trunk=shared_trunk)
    obs = np.random.default_rng(0).normal(size=(5, *envs.single_observation_space.shape))
    obs = obs.astype(np.float32)
    envs.close()
    out_numpy, values_numpy = net.heads_numpy(obs)  # an MLP on the CPU: numpy
    out_torch, values_torch = net.heads_torch(obs)  # what a GPU runs
    np.testing.assert_allclose(out_torch, out_numpy, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(values_torch, values_numpy, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("tf_like", [False, True])
def test_rmsprop_in_torch_gives_the_numpy_update(tf_like):
    steps = []
    for in_torch in (False, True):
        torch.manual_seed(0)
        layer = torch.nn.Linear(4, 3)
        theta = flatten_parameters(list(layer.parameters()))
        optimizer = RMSprop(theta, lr=0.01, alpha=0.99, eps=1e-5, tf_like=tf_like)
        for t in range(5):
            theta.grad.copy_(torch.linspace(-1, 1, len(theta)) * (t + 1))
            optimizer.step_torch() if in_torch else optimizer.step()
        steps.append((theta.detach().clone(), optimizer.square_avg.clone()))
    (theta_numpy, v_numpy), (theta_torch, v_torch) = steps
    torch.testing.assert_close(theta_torch, theta_numpy)
    torch.testing.assert_close(v_torch, v_numpy)


def test_auto_takes_cuda_only_where_torch_sees_a_gpu():
    assert resolve_device("auto") == ("cuda" if CUDA else "cpu")
    assert resolve_device("cpu") == "cpu"


def test_device_is_a_checked_run_setting():
    assert resolve_config("CartPole-v1", "a2c", device="cpu").device == "cpu"
    assert resolve_config("CartPole-v1", "a2c").device == "auto"
    with pytest.raises(ConfigError, match="device must be one of auto, cpu, cuda, not 'gpu'"):
        resolve_config("CartPole-v1", "a2c", settings=["device=gpu"])


@pytest.mark.skipif(CUDA, reason="a GPU is here")
def test_cuda_without_a_gpu_is_one_line_and_no_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "CartPole-v1", "--agent", "a2c", "--steps", "100", "--device", "cuda"]
    assert main([*args, "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert "device=cuda, but torch sees no GPU" in err and err.count("\n") == 1
    assert not run.exists()


# -- on a GPU --------------------------------------------------------------------------------------


GPU_CASES = [
    (name, env_id, kwargs)
    for name, cls in AGENTS.items()
    if not cls.uses_demos  # the imitation agents: test_every_imitation_agent_...
    for env_id, kwargs in [
        ("CartPole-v1", {}),
        ("Pendulum-v1", {}),
        ("rlsuite/KeyDoor-5x5-v0", {"obs_mode": "pixels", "frame_stack": 2}),
    ]
]


@needs_cuda
@pytest.mark.parametrize("name, env_id, env_kwargs", GPU_CASES)
def test_every_agent_learns_and_acts_on_a_gpu(name, env_id, env_kwargs, tmp_path):
    envs = make_vector_env(env_id, 4, **env_kwargs)
    agent = make_agent(name, envs, {"normalize_reward": True}, seed=0, device="cuda")
    assert agent.theta.is_cuda and all(p.is_cuda for p in agent.policy.parameters())
    before = agent.theta.detach().clone()
    agent.learn(512)
    assert agent.num_updates > 0 and not torch.equal(agent.theta.detach(), before)
    obs, _ = envs.reset(seed=1)
    actions = agent.predict(obs, deterministic=True)
    assert all(envs.single_action_space.contains(a) for a in actions)
    # The same weights on the CPU act alike (GPU arithmetic may differ in the last bits).
    agent.save(tmp_path / "agent.pt")
    on_cpu = rlsuite.load(tmp_path / "agent.pt", device="cpu")
    gpu_out, gpu_values = agent.policy.heads_numpy(agent.collector.policy_input(obs, False))
    cpu_out, cpu_values = on_cpu.policy.heads_numpy(on_cpu.collector.policy_input(obs, False))
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-2, atol=1e-3)
    np.testing.assert_allclose(gpu_values, cpu_values, rtol=1e-2, atol=1e-3)
    envs.close()


@needs_cuda
def test_a_run_trains_on_the_gpu_resumes_there_and_evaluates_anywhere(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "CartPole-v1", "--agent", "ppo", "--steps", "2048", "--device", "cuda"]
    assert main([*args, "--run-dir", str(run), "--no-progress"]) == 0
    assert main(["train", "--resume", str(run), "--steps", "4096", "--no-progress"]) == 0
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["num_steps"] == 4096
    for device in ("cuda", "cpu"):
        assert main(["eval", str(run), "--episodes", "2", "--device", device, "--json"]) == 0
    assert rlsuite.load(run).policy.policy_head.weight.is_cuda  # auto: the GPU


# -- curiosity, the supervised models and pretrained encoders on a GPU -------------------------


@needs_cuda
@pytest.mark.parametrize("kind", CURIOSITY_KINDS)
@pytest.mark.parametrize("obs_mode", ["symbolic", "pixels"])
@pytest.mark.parametrize("name", ["a2c", "ppo"])
def test_curiosity_learns_on_a_gpu(name, kind, obs_mode):
    envs = make_vector_env(GAME, 4, obs_mode=obs_mode, reward_mode="sparse")
    agent = make_agent(name, envs, {"curiosity": kind, "n_steps": 64}, seed=0, device="cuda")
    before = agent.theta.detach().clone()
    agent.learn(512)
    assert agent.num_updates > 0 and not torch.equal(agent.theta.detach(), before)
    module = agent.curiosity.module  # none for the count bonus, which has no network
    if module is not None:
        assert all(p.is_cuda for p in module.parameters())
        assert agent.curiosity.theta.is_cuda
    envs.close()


@needs_cuda
def test_a_curious_run_resumes_on_the_gpu_and_evaluates_on_the_cpu(tmp_path):
    run = tmp_path / "run"
    args = ["train", GAME, "--agent", "ppo", "--curiosity", "rnd", "--device", "cuda"]
    args += ["--env-kwargs", "reward_mode=sparse", "--set", "n_steps=64", "--eval-every", "0"]
    assert main([*args, "--steps", "512", "--run-dir", str(run), "--no-progress"]) == 0
    assert main(["train", "--resume", str(run), "--steps", "1024", "--no-progress"]) == 0
    assert rlsuite.load(run, device="cpu").num_steps >= 1024  # whole updates, and the warm-up
    assert main(["eval", str(run), "--episodes", "2", "--device", "cpu", "--json"]) == 0


FIT_CASES = [(model, "digits", []) for model in MODELS] + [
    ("transformer", "reverse", []),  # next-token prediction
    ("dcgan", "digits", ["--set", "conditional=true"]),
]


@needs_cuda
@pytest.mark.parametrize("model, data, extra", FIT_CASES)
def test_every_supervised_model_fits_on_a_gpu(model, data, extra, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["fit", model, "--data", data, "--epochs", "1", "--device", "cuda", *extra]
    assert main([*args, "--run-dir", str(run), "--no-progress"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert main(["fit", "--eval-only", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


@needs_cuda
def test_an_encoder_pretrained_on_the_gpu_serves_a_frozen_agent_there(tmp_path):
    encoder = tmp_path / "encoder"
    args = ["pretrain", GAME, "--method", "ae", "--frames", "256", "--epochs", "1"]
    assert main([*args, "--set", "device=cuda", "--run-dir", str(encoder), "--no-progress"]) == 0
    run = tmp_path / "run"
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--encoder", str(encoder)]
    args += ["--freeze-encoder", "--device", "cuda", "--set", "n_steps=64", "--eval-every", "0"]
    assert main([*args, "--steps", "512", "--run-dir", str(run), "--no-progress"]) == 0
    agent = rlsuite.load(run)
    assert all(p.is_cuda for p in agent.policy.parameters())
    assert main(["eval", str(run), "--episodes", "2", "--device", "cpu"]) == 0


@needs_cuda
@pytest.mark.parametrize("name", [name for name, cls in AGENTS.items() if cls.uses_demos])
def test_every_imitation_agent_learns_on_a_gpu_and_evaluates_on_the_cpu(
    name, keydoor_demos, tmp_path
):
    run = tmp_path / "run"
    args = ["train", GAME, "--agent", name, "--demos", str(keydoor_demos), "--device", "cuda"]
    args += ["--steps", "512", "--eval-every", "0", "--run-dir", str(run), "--no-progress"]
    assert main(args) == 0
    assert all(p.is_cuda for p in rlsuite.load(run).policy.parameters())
    assert main(["eval", str(run), "--episodes", "2", "--device", "cpu"]) == 0
