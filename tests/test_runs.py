"""What resuming a run relies on: the vector env's state captured and restored exactly."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite import envstate


def roundtrip(value):
    """Through torch.save / torch.load(weights_only=True), as a checkpoint goes."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def play(envs: gym.vector.VectorEnv, actions: np.ndarray) -> list:
    """Step through `actions` (T, N); everything the env returned, for exact comparison."""
    out = []
    for action in actions:
        obs, reward, terminated, truncated, _ = envs.step(action)
        out.append((obs.copy(), reward.copy(), terminated.copy(), truncated.copy()))
    return out


VECTOR_ENVS = {
    "native CartPoleVectorEnv": lambda: gym.make_vec("CartPole-v1", 4, "vector_entry_point"),
    "Sync TimeLimit(CartPole)": lambda: gym.make_vec("CartPole-v1", 4, "sync"),
    "Sync with NormalizeObservation": lambda: gym.make_vec(
        "MountainCar-v0", 3, "sync", wrappers=[gym.wrappers.NormalizeObservation]
    ),
    "rlsuite native KeyDoor": lambda: gym.make_vec(
        "rlsuite/KeyDoor-5x5-v0", 4, "vector_entry_point"
    ),
    "rlsuite Sync Invaders": lambda: gym.make_vec("rlsuite/Invaders-v0", 2, "sync"),
}


@pytest.mark.parametrize("make", VECTOR_ENVS.values(), ids=VECTOR_ENVS.keys())
def test_restored_env_continues_exactly(make):
    original = make()
    original.reset(seed=3)
    space = original.action_space
    warmup = np.array([space.sample() for _ in range(300)])  # crosses episode ends
    play(original, warmup)
    state = roundtrip(envstate.capture_env_state(original))

    restored = make()
    restored.reset(seed=12345)  # a different start: everything must come from `state`
    assert envstate.restore_env_state(restored, state) == []
    actions = np.array([space.sample() for _ in range(300)])
    assert all(
        all(np.array_equal(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(play(original, actions), play(restored, actions), strict=True)
    )


def test_async_env_state_is_not_captured():
    envs = gym.make_vec("CartPole-v1", 2, "async")
    try:
        assert envstate.capture_env_state(envs) is None
    finally:
        envs.close()


def test_encode_keeps_dtypes_generators_and_aliases():
    shared = np.arange(3, dtype=np.uint64)
    holder = type("Holder", (), {})()
    holder.a, holder.b = shared, shared
    holder.gen = np.random.default_rng(7)
    holder.scalar = np.float32(1.5)
    holder.nested = {"x": [np.int8(3), (1, "s")], 2: None}
    state = roundtrip(envstate.capture_env_state(holder))
    expected = holder.gen.random(3)
    holder.gen = np.random.default_rng(0)
    holder.a = holder.b = np.zeros(3, dtype=np.uint64)
    holder.scalar, holder.nested = None, None
    assert envstate.restore_env_state(holder, state) == []
    assert holder.a is holder.b and holder.a.dtype == np.uint64 and list(holder.a) == [0, 1, 2]
    assert np.array_equal(holder.gen.random(3), expected)
    assert type(holder.scalar) is np.float32 and holder.nested == {"x": [3, (1, "s")], 2: None}


def test_a_runs_thread_count_holds_for_numpys_blas_as_for_torch():
    """numpy's OpenBLAS spins a thread per core: two runs side by side fought over two cores
    (an A2C run 4.7x slower). A run's torch_threads now caps numpy's BLAS threads too."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from rlsuite.config import resolve_config
    from rlsuite.runs import build_agent, run_envs

    threadpool_limits(limits=2, user_api="blas")  # as a fresh process on two cores starts
    config = resolve_config("CartPole-v1", "a2c", settings=["torch_threads=1"])
    build_agent(config, run_envs(config, 2))
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
    assert torch.get_num_threads() == 1
