"""The demonstration file: round trip, and a clear one-line error for every kind of bad file."""

import json

import numpy as np
import pytest

from rlsuite.demos import DemoFormatError, DemoRecorder, load_demos


def _recorded(n_episodes=2, length=3):
    recorder = DemoRecorder("rlsuite/KeyDoor-5x5-v0", {"reward_mode": "sparse"}, source="test")
    for episode in range(n_episodes):
        recorder.start(seed=episode)
        for t in range(length + episode):
            recorder.add(np.full(4, t, dtype=np.float32), t % 4, reward=float(t == length))
        recorder.end(np.full(4, 9, dtype=np.float32), terminated=True, success=episode == 1)
    recorder.start(seed=99)  # an unfinished episode is left out
    recorder.add(np.zeros(4, dtype=np.float32), 0, 0.0)
    return recorder.demonstrations()


def test_round_trip_keeps_every_array_and_the_header(tmp_path):
    demos = _recorded()
    path = demos.save(tmp_path / "demos.npz")
    back = load_demos(path)
    assert back.env_id == "rlsuite/KeyDoor-5x5-v0" and back.env_kwargs == {"reward_mode": "sparse"}
    assert back.n_episodes == 2 and list(back.episode_lengths) == [3, 4]
    np.testing.assert_array_equal(back.observations, demos.observations)
    np.testing.assert_array_equal(back.actions, demos.actions)
    np.testing.assert_array_equal(back.seeds, [0, 1])
    np.testing.assert_array_equal(back.successes, [False, True])
    assert list(back.episode_returns) == [0.0, 1.0]


def test_missing_and_garbage_files_give_one_line_errors(tmp_path):
    with pytest.raises(DemoFormatError, match="no demonstration file.*rlsuite play"):
        load_demos(tmp_path / "nothing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file")
    with pytest.raises(DemoFormatError, match="not a readable .* demonstration file") as info:
        load_demos(garbage)
    assert "\n" not in str(info.value)
    assert "pickle" not in str(info.value)  # numpy's advice to unpickle is not passed on


def test_truncated_file_is_refused(tmp_path):
    path = _recorded().save(tmp_path / "demos.npz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DemoFormatError):
        load_demos(path)


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as data:
        contents = {name: data[name] for name in data.files}
    contents.update(changes)
    for name, value in list(contents.items()):
        if value is None:
            del contents[name]
    np.savez(path, **contents)


def test_inconsistent_arrays_are_refused(tmp_path):
    path = _recorded().save(tmp_path / "demos.npz")
    _rewrite(path, actions=np.zeros(2, dtype=np.int64))
    with pytest.raises(DemoFormatError, match="must match one to one"):
        load_demos(path)
    path = _recorded().save(tmp_path / "demos.npz")
    _rewrite(path, seeds=None)
    with pytest.raises(DemoFormatError, match="missing seeds"):
        load_demos(path)
    path = _recorded().save(tmp_path / "demos.npz")
    _rewrite(path, episode_starts=np.array([0, 10]))
    with pytest.raises(DemoFormatError, match="episode_starts"):
        load_demos(path)
    path = _recorded().save(tmp_path / "demos.npz")
    header = {"format_version": 99, "env_id": "x"}
    _rewrite(path, header=np.array(json.dumps(header)))
    with pytest.raises(DemoFormatError, match="format version 99"):
        load_demos(path)


def test_nan_in_observations_is_refused(tmp_path):
    demos = _recorded()
    path = demos.save(tmp_path / "demos.npz")
    bad = demos.observations.copy()
    bad[1, 2] = np.nan
    _rewrite(path, observations=bad)
    with pytest.raises(DemoFormatError, match="NaN"):
        load_demos(path)


def test_a_pickled_object_array_never_loads(tmp_path):
    # An object array needs pickle to load; allow_pickle=False refuses it, so no code can run.
    path = _recorded().save(tmp_path / "demos.npz")
    objects = np.empty(3, dtype=object)
    objects[:] = [{"a": 1}, None, "x"]
    with np.load(path, allow_pickle=False) as data:
        contents = {name: data[name] for name in data.files}
    contents["actions"] = objects
    np.savez(path, **contents)
    with pytest.raises(DemoFormatError):
        load_demos(path)


def test_nothing_to_save_is_an_error():
    with pytest.raises(DemoFormatError, match="no finished episode"):
        DemoRecorder("x").demonstrations()
