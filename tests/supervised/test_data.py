"""Data for `rlsuite fit`: fixed splits, .npz files and image folders read right, bad files
refused with one line and no run folder."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from rlsuite.cli import main
from rlsuite.supervised.data import load_dataset


def test_digits_have_a_fixed_stratified_split_with_20_percent_held_out():
    first, second = load_dataset("digits"), load_dataset("digits")
    n = len(first.train) + len(first.val) + len(first.test)
    assert n == 1797 and first.spec.shape == (1, 8, 8) and first.spec.num_classes == 10
    assert len(first.test) == round(0.2 * n)
    assert torch.equal(first.test.x, second.test.x)  # the same test set on every load
    rows = [{tuple(x.flatten().tolist()) for x in split.x} for split in (first.train, first.test)]
    assert len(rows[0] & rows[1]) < 5  # (the digits hold a few exact duplicates)
    counts = torch.bincount(first.test.y, minlength=10)
    assert counts.min() >= 34 and counts.max() <= 38  # every class about 1/10 of the test set
    assert 0.0 <= first.train.x.min() and first.train.x.max() == 1.0


def test_npz_frames_in_gymnasium_layout_become_nchw_floats_with_their_labels(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(20, 12, 16, 3), dtype=np.uint8)  # (N, H, W, C)
    labels = np.array(["door", "key"] * 10)
    np.savez(tmp_path / "frames.npz", frames=frames, labels=labels)
    data = load_dataset(tmp_path / "frames.npz")
    assert data.spec.shape == (3, 12, 16) and data.spec.class_names == ("door", "key")
    everything = torch.cat([data.train.x, data.val.x, data.test.x])
    expected = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    assert sorted(map(tuple, everything.flatten(1).tolist())) == sorted(
        map(tuple, expected.flatten(1).tolist())
    )
    index = int((expected.flatten(1) == data.test.x[0].flatten()).all(1).nonzero()[0, 0])
    assert data.test.y[0] == (0 if labels[index] == "door" else 1)


def test_a_folder_of_images_is_labelled_by_its_sub_folders(tmp_path):
    for name, value in (("cats", 30), ("dogs", 220)):
        (tmp_path / name).mkdir()
        for i in range(4):
            Image.fromarray(np.full((6, 6), value + i, np.uint8)).save(tmp_path / name / f"{i}.png")
    data = load_dataset(tmp_path)
    assert data.spec.shape == (1, 6, 6) and data.spec.class_names == ("cats", "dogs")
    for split in (data.train, data.val, data.test):
        bright = split.x.mean((1, 2, 3)) > 0.5
        assert torch.equal(bright, split.y == 1)


def test_sequence_tasks_pair_each_source_with_its_reversal_or_sort():
    reverse, sort = load_dataset("reverse"), load_dataset("sort")
    assert torch.equal(reverse.train.y, reverse.train.x.flip(1))
    assert torch.equal(sort.test.y, sort.test.x.sort(1).values)


def _write_bad_files(folder):
    np.save(folder / "array.npy", np.zeros(3))
    (folder / "garbage.npz").write_bytes(b"not a zip file at all")
    np.savez(folder / "objects.npz", images=np.array([{"a": 1}] * 10, dtype=object))
    np.savez(folder / "nokey.npz", pixels=np.zeros((10, 8, 8)))
    np.savez(folder / "shape.npz", images=np.zeros((10, 8)))
    np.savez(folder / "range.npz", images=np.full((10, 8, 8), 3.0))
    np.savez(folder / "count.npz", images=np.zeros((10, 8, 8)), labels=np.zeros(7, int))
    np.savez(folder / "few.npz", images=np.zeros((2, 8, 8)))
    (folder / "empty").mkdir()
    (folder / "sizes").mkdir()
    Image.new("L", (8, 8)).save(folder / "sizes" / "a.png")
    Image.new("L", (9, 8)).save(folder / "sizes" / "b.png")
    (folder / "broken").mkdir()
    (folder / "broken" / "a.png").write_bytes(b"\x89PNG but not really")


BAD = {
    "array.npy": "not a .npz file",
    "missing.npz": "data file not found",
    "garbage.npz": "not a .npz file",
    "objects.npz": "Python objects",
    "nokey.npz": "no image array",
    "shape.npz": "images must be (N, H, W)",
    "range.npz": "must lie in [0, 1]",
    "count.npz": "one per image",
    "few.npz": "at least 5",
    "empty": "holds no images",
    "sizes": "differ in size",
    "broken": "cannot read image",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_data_files_give_one_line_errors_and_leave_no_run_folder(tmp_path, capsys, name):
    _write_bad_files(tmp_path)
    run_dir = tmp_path / "run"
    code = main(["fit", "cnn", "--data", str(tmp_path / name), "--run-dir", str(run_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("rlsuite: error: ") and err.count("\n") == 1, err
    assert BAD[name] in err
    assert not run_dir.exists()


def test_a_classifier_refuses_unlabelled_images_before_making_a_folder(tmp_path, capsys):
    np.savez(tmp_path / "frames.npz", frames=np.zeros((10, 8, 8, 3), np.uint8))
    code = main(["fit", "cnn", "--data", str(tmp_path / "frames.npz"), "--run-dir", "r"])
    assert code == 2 and "needs labelled images" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
