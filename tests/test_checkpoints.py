"""rlsuite.checkpoints: files written atomically, read with weights_only, versions checked."""

from __future__ import annotations

import pytest
import torch

from rlsuite.checkpoints import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from rlsuite.errors import RlsuiteError


def test_checkpoint_writes_atomically_and_loads_safely(tmp_path):
    path = tmp_path / "last.pt"
    payload = {"format": CHECKPOINT_FORMAT, "format_version": 1, "w": torch.ones(2)}
    save_checkpoint(payload, path, tmp_path / "step_1.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt", "step_1.pt"]
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(2))
    save_checkpoint({**payload, "format_version": 99}, path)
    with pytest.raises(RlsuiteError, match="newer rlsuite"):
        load_checkpoint(path)
    torch.save({"w": 1}, path)
    with pytest.raises(RlsuiteError, match="not an rlsuite checkpoint"):
        load_checkpoint(path)
