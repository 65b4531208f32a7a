"""`rlsuite fit` and `rlsuite models` end to end: run folders, TensorBoard read back, checkpoints
that round-trip, `--eval-only --json`, one-line errors."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

sys.path.insert(0, str(Path(__file__).parents[1] / "cli"))
from cli_helpers import listed_settings  # noqa: E402

from rlsuite.cli import main  # noqa: E402
from rlsuite.supervised.data import load_dataset
from rlsuite.supervised.fit import load_model
from rlsuite.supervised.registry import MODELS, make_model_config, model_class

SMALL_CNN = ["--set", "channels=8,16", "hidden_sizes=32", "dropout=0", "shift=0"]


def tensorboard(run_dir) -> EventAccumulator:
    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"images": 0})
    events.Reload()
    return events


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fit") / "cnn"
    assert main(["fit", "cnn", "--epochs", "4", "--run-dir", str(run_dir), *SMALL_CNN]) == 0
    return run_dir


def test_fit_writes_a_run_folder_with_the_supervised_curves(cnn_run):
    assert (cnn_run / "config.yaml").is_file() and (cnn_run / "summary.json").is_file()
    assert {p.name for p in (cnn_run / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    scalars = tensorboard(cnn_run).Tags()["scalars"]
    for tag in ("supervised/train_loss", "supervised/val_loss", "supervised/val_accuracy"):
        assert tag in scalars
        assert [e.step for e in tensorboard(cnn_run).Scalars(tag)] == [1, 2, 3, 4]
    losses = [e.value for e in tensorboard(cnn_run).Scalars("supervised/train_loss")]
    assert losses[-1] < losses[0]


def test_eval_only_json_prints_one_object_with_the_test_accuracy(cnn_run, capsys):
    capsys.readouterr()
    assert main(["fit", "--eval-only", str(cnn_run), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    accuracy = [key for key in result if "acc" in key]
    assert accuracy == ["accuracy"] and 0.5 < result["accuracy"] <= 1.0
    assert result["split"] == "test" and result["examples"] == 359
    summary = json.loads((cnn_run / "summary.json").read_text())
    assert result["accuracy"] == pytest.approx(summary["test"]["accuracy"])


def test_a_checkpoint_round_trips(cnn_run):
    data = load_dataset("digits")
    model = load_model(cnn_run)
    again = load_model(cnn_run / "checkpoints" / "best.pt")
    x = data.test.x[:16]
    assert torch.equal(model.predict_proba(x), again.predict_proba(x))
    saved = torch.load(cnn_run / "checkpoints" / "best.pt", weights_only=True)
    assert model.evaluate(data.val)["accuracy"] == pytest.approx(saved["val"]["accuracy"])
    # The state carries the optimiser too: a fresh model given it continues identically.
    fresh = load_model(cnn_run)
    fresh.load_state_dict(model.state_dict())
    assert (
        fresh.optimizer.state_dict()["state"].keys() == model.optimizer.state_dict()["state"].keys()
    )


def test_the_same_seed_gives_the_same_model(tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        args = ["fit", "cnn", "--epochs", "1", "--device", "cpu", *SMALL_CNN]  # exact on a CPU
        assert main([*args, "--run-dir", str(run)]) == 0
    a, b = (json.loads((run / "summary.json").read_text())["test"] for run in runs)
    assert a == b


def test_a_resumed_fit_ends_exactly_where_an_uninterrupted_one_does(tmp_path, capsys):
    # Dropout and shifted images left on: their random streams must come back too.
    small = ["--set", "channels=8,16", "hidden_sizes=32", "--device", "cpu"]  # exact on a CPU
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert main(["fit", "cnn", "--epochs", "3", "--run-dir", str(straight), *small]) == 0
    assert main(["fit", "cnn", "--epochs", "1", "--run-dir", str(stopped), *small]) == 0
    assert main(["fit", "--resume", str(stopped), "--epochs", "3"]) == 0
    a, b = (
        torch.load(run / "checkpoints" / "last.pt", weights_only=True)
        for run in (straight, stopped)
    )
    assert a["epoch"] == b["epoch"] == 3
    for name, tensor in a["model"]["net"].items():
        torch.testing.assert_close(b["model"]["net"][name], tensor, rtol=0, atol=0)
    assert [e.step for e in tensorboard(stopped).Scalars("supervised/val_loss")] == [1, 2, 3]
    assert main(["fit", "--resume", str(stopped)]) == 2  # 3 of 3 epochs done
    assert "has trained 3 of 3 epochs; give --epochs N > 3" in capsys.readouterr().err


def test_gan_samples_and_attention_maps_reach_tensorboard(tmp_path):
    gan, vit = tmp_path / "gan", tmp_path / "vit"
    one_epoch = ["--epochs", "1", "--run-dir"]
    assert main(["fit", "wgan-gp", *one_epoch, str(gan), "--set", "width=16"]) == 0
    small = ["d_model=16", "n_heads=2", "n_layers=1", "patch_size=4"]
    assert main(["fit", "transformer", *one_epoch, str(vit), "--set", *small]) == 0
    assert tensorboard(gan).Tags()["images"] == ["gan/samples"]
    picture = tensorboard(gan).Images("gan/samples")[0]
    assert picture.width > 64 and picture.height > 64  # an 8 x 8 grid of scaled-up digits
    assert tensorboard(vit).Tags()["images"] == ["attention/cls_to_patches"]
    assert "supervised/train_wasserstein_distance" in tensorboard(gan).Tags()["scalars"]


def test_a_gan_with_a_fid_cnn_logs_the_frechet_distance_and_classifier_score(cnn_run, tmp_path):
    gan = tmp_path / "gan"
    settings = ["width=16", f"fid_cnn={cnn_run}"]
    assert main(["fit", "dcgan", "--epochs", "2", "--run-dir", str(gan), "--set", *settings]) == 0
    scalars = tensorboard(gan).Tags()["scalars"]
    distance = [e.value for e in tensorboard(gan).Scalars("supervised/val_frechet_distance")]
    score = [e.value for e in tensorboard(gan).Scalars("supervised/val_classifier_score")]
    assert "supervised/val_loss" in scalars and len(distance) == len(score) == 2
    assert all(d > 0 for d in distance) and all(1 <= s <= 10 for s in score)  # 10 digit classes


def test_models_lists_every_model(capsys):
    assert main(["models"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"cnn", "transformer", "dcgan", "wgan-gp"} <= set(names)


@pytest.mark.parametrize("name", list(MODELS))
def test_models_name_lists_settings_whose_defaults_set_takes_back(name, capsys):
    assert main(["models", name]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: ") and "fit settings, also --set: epochs, seed" in out
    defaults = listed_settings(out)
    cls = model_class(name)
    assert list(defaults) == [f.name for f in dataclasses.fields(cls.Config)]
    # Each default as printed, given back to --set, is the Config's own default.
    assert make_model_config(cls, defaults) == make_model_config(cls)


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "cnnn"], "unknown model 'cnnn'"),
        (["fit", "cnn", "--set", "channels=0"], "channels must be one or more positive"),
        (["fit", "cnn", "--set", "colour=red"], "unknown setting 'colour' for model cnn"),
        (["fit", "cnn", "--data", "reverse"], "cnn trains on images"),
        (["fit", "cnn", "--epochs", "0"], "epochs must be a positive integer"),
        (["fit", "transformer", "--set", "n_heads=3"], "n_heads (3) must divide d_model (64)"),
        (["fit", "--eval-only", "nowhere"], "no such run folder"),
        # A minibatch of one: batch norm raised a traceback in the first step.
        (["fit", "simclr", "--set", "batch_size=1"], "batch_size must be an integer >= 2"),
    ],
)
def test_bad_input_is_one_line_and_leaves_no_folder(tmp_path, capsys, args, message):
    run_dir = tmp_path / "run"
    assert main([*args, "--run-dir", str(run_dir)] if "--eval-only" not in args else args) == 2
    err = capsys.readouterr().err
    assert err.startswith("rlsuite: error: ") and err.count("\n") == 1 and message in err, err
    assert not run_dir.exists()


def test_an_agent_command_refuses_a_fit_run_with_one_line(cnn_run, capsys):
    assert main(["eval", str(cnn_run)]) == 2
    assert "holds a model trained with rlsuite fit" in capsys.readouterr().err


def test_a_last_minibatch_of_one_example_joins_the_one_before(tmp_path):
    """The digits' 1,258 training images in minibatches of 1,257 left one image over, and
    SimCLR's batch norm stopped the fit with a traceback; it now trains on one batch of 1,258."""
    run_dir = tmp_path / "run"
    args = ["fit", "simclr", "--epochs", "1", "--set", "batch_size=1257"]
    assert len(load_dataset("digits").train) % 1257 == 1
    assert main([*args, "--run-dir", str(run_dir)]) == 0
    assert (run_dir / "checkpoints" / "last.pt").is_file()
