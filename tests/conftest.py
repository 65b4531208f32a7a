"""Test-wide settings: no display or sound device needed, small torch thread pool."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def keydoor_demos(tmp_path_factory):
    """The scripted expert's demonstrations of rlsuite/KeyDoor-5x5-v0 (20 episodes), read only."""
    from rlsuite.cli import main

    path = tmp_path_factory.mktemp("demos") / "keydoor.npz"
    args = ["demos", "rlsuite/KeyDoor-5x5-v0", "--expert", "scripted", "--episodes", "20"]
    assert main([*args, "-o", str(path)]) == 0
    return path


@pytest.fixture(scope="session")
def ray_address():
    """One real local Ray (2 CPUs) for every test that needs it; its GCS address."""
    import ray

    info = ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield info.address_info["gcs_address"]
    ray.shutdown()
