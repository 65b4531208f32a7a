"""`rlsuite pretrain` and `rlsuite fit` of self-supervised models, then an agent that uses them."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import rlsuite
from rlsuite.cli import main
from rlsuite.errors import RlsuiteError
from rlsuite.supervised.data import load_dataset
from rlsuite.supervised.encoders import encode, load_encoder
from rlsuite.supervised.frames import load_frames

GAME = "rlsuite/KeyDoor-5x5-v0"


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    run = tmp_path_factory.mktemp("pretrain") / "run"
    args = ["pretrain", GAME, "--method", "ae", "--frames", "64", "--epochs", "2"]
    assert main([*args, "--run-dir", str(run), "--set", "batch_size=16"]) == 0
    return run


def test_pretrain_writes_an_encoder_for_the_agents_observations(pretrained):
    encoder = load_encoder(pretrained)
    # KeyDoor's per-task pixel settings stack 2 frames: the encoder takes what the agent sees.
    assert tuple(encoder.obs_shape) == (64, 64, 6)
    frames = load_frames(pretrained / "frames.npz")
    assert len(frames) == 64 and frames.frames.shape[1:] == (64, 64, 6)
    events = EventAccumulator(str(pretrained / "tb")).Reload()
    assert len(events.Scalars("supervised/train_loss")) == 2
    assert len(events.Scalars("supervised/val_loss")) == 2
    assert "supervised/ae_reconstructions" in events.Tags()["images"]


def test_the_pretrained_encoders_features_are_standardised_over_its_frames(pretrained):
    # The agent's network gets features of order 1, whatever the scale the encoder learned.
    encoder = load_encoder(pretrained)
    assert encoder.spec["standardize"] is True
    frames = load_frames(pretrained / "frames.npz").frames
    features = encode(encoder, frames)
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-3)
    # Features that vary over the frames come out with std 1; eps (1e-8 on the variance, as
    # VecNormalize) keeps a nearly constant one, such as a dead ReLU, near 0.
    varying = encode(encoder.encoder, frames).std(axis=0) > 1e-3
    assert varying.sum() > 100
    np.testing.assert_allclose(features.std(axis=0)[varying], 1.0, rtol=1e-2)


def test_an_agent_trains_on_the_pretrained_encoder_and_keeps_it_frozen(pretrained, tmp_path):
    run = tmp_path / "agent"
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--steps", "256"]
    args += ["--set", "n_steps=32", "--encoder", str(pretrained), "--freeze-encoder"]
    assert main([*args, "--run-dir", str(run), "--eval-every", "0"]) == 0
    agent = rlsuite.load(run)
    pretrained_weights = load_encoder(pretrained).state_dict()
    for name, value in agent.policy.encoder.state_dict().items():
        assert torch.equal(value.cpu(), pretrained_weights[name].cpu())


def test_a_cell_map_encoder_pretrains_with_masked_modelling_and_serves_a_frozen_agent(tmp_path):
    # `--set cell=8`: one code per 8x8-pixel cell of the 64x64 frames.
    pretrained = tmp_path / "cells"
    args = ["pretrain", GAME, "--method", "mae", "--frames", "64", "--epochs", "1"]
    assert main([*args, "--run-dir", str(pretrained), "--set", "batch_size=16", "cell=8"]) == 0
    encoder = load_encoder(pretrained)
    assert encoder.spec["kind"] == "cell-map" and encoder.out_dim == 8 * 8 * 16
    run = tmp_path / "agent"
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--steps", "128"]
    args += ["--set", "n_steps=32", "--encoder", str(pretrained), "--freeze-encoder"]
    assert main([*args, "--run-dir", str(run), "--eval-every", "0"]) == 0
    agent = rlsuite.load(run)  # rebuilt from the spec in the checkpoint, pretrained weights
    for name, value in agent.policy.encoder.state_dict().items():
        assert torch.equal(value.cpu(), encoder.state_dict()[name].cpu())


def test_fit_trains_a_self_supervised_model_on_a_frames_file_and_it_serves_as_encoder(tmp_path):
    frames = tmp_path / "frames.npz"
    assert main(["dataset", GAME, "--frames", "64", "-o", str(frames)]) == 0
    run = tmp_path / "simclr"
    args = ["fit", "simclr", "--data", str(frames), "--epochs", "1", "--run-dir", str(run)]
    assert main([*args, "--set", "batch_size=16"]) == 0
    encoder = load_encoder(run)  # a fit run of a self-supervised model is an encoder too
    assert tuple(encoder.obs_shape) == (64, 64, 3)
    summary = json.loads((run / "summary.json").read_text())
    assert np.isfinite(summary["test"]["loss"])
    # Standardised as `rlsuite pretrain`'s encoders are, over the run's training split.
    assert encoder.spec["standardize"] is True
    train = load_dataset(str(frames)).train.x.permute(0, 2, 3, 1).numpy() * 255
    np.testing.assert_allclose(encode(encoder, train).mean(axis=0), 0.0, atol=1e-3)
    frames.unlink()  # the statistics come from the data: without it, one line says so
    with pytest.raises(RlsuiteError, match=r"standardised over the data .* restore .*frames.npz"):
        load_encoder(run)


def test_fit_takes_stacked_frames_so_its_encoder_fits_a_frame_stacked_agent(tmp_path):
    # KeyDoor's pixel entries stack 2 frames: `rlsuite dataset` with the same stack, then `fit`.
    frames = tmp_path / "stacked.npz"
    kwargs = ["--env-kwargs", "obs_mode=pixels", "frame_stack=2"]
    assert main(["dataset", GAME, "--frames", "64", *kwargs, "-o", str(frames)]) == 0
    run = tmp_path / "ae"
    args = ["fit", "ae", "--data", str(frames), "--epochs", "1", "--run-dir", str(run)]
    assert main([*args, "--set", "batch_size=16"]) == 0
    assert tuple(load_encoder(run).obs_shape) == (64, 64, 6)
    # Its reconstructions picture shows the latest frame (the last 3 channels) as RGB.
    events = EventAccumulator(str(run / "tb"), size_guidance={"images": 0}).Reload()
    png = events.Images("supervised/ae_reconstructions")[-1].encoded_image_string
    shown = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)
    val = load_dataset(str(frames)).val.x[:8].permute(0, 2, 3, 1).numpy() * 255
    moved = [i for i, stack in enumerate(val) if not np.array_equal(stack[..., :3], stack[..., 3:])]
    i = moved[0]  # an example whose two frames differ
    inputs = shown[i * 64 : (i + 1) * 64, :64]  # each row of the picture: input, reconstruction
    assert np.abs(inputs - val[i, ..., 3:]).max() <= 1
    assert np.abs(inputs - val[i, ..., :3]).max() > 1
    agent_run = tmp_path / "agent"
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--steps", "128"]
    args += ["--set", "n_steps=32", "--encoder", str(run), "--freeze-encoder"]
    assert main([*args, "--run-dir", str(agent_run), "--eval-every", "0"]) == 0


def test_pretrain_mistakes_are_one_line_and_leave_no_folder(tmp_path, capsys):
    run = tmp_path / "run"
    base = ["pretrain", GAME, "--run-dir", str(run), "--frames", "64"]
    assert main([*base, "--method", "vae"]) == 2
    assert "unknown method 'vae'" in capsys.readouterr().err
    assert main([*base, "--method", "ae", "--set", "mask_ratio=2"]) == 2
    assert "mask_ratio must be" in capsys.readouterr().err
    assert main([*base, "--method", "ae", "--set", "colour=red"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err
    assert main([*base, "--method", "ae", "--policy", "nobody"]) == 2
    assert "--policy must be" in capsys.readouterr().err
    assert main([*base, "--method", "ae", "--set", "cell=7"]) == 2
    assert "cell=7 must divide the 64x64 frames into whole cells" in capsys.readouterr().err
    assert not run.exists()


def test_icm_starts_its_phi_from_the_pretrained_encoder(pretrained, tmp_path):
    # `--set curiosity_encoder=RUN`: ICM's phi is the pretrained encoder (then learns on).
    run = tmp_path / "curious"
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--steps", "256"]
    args += ["--agent", "ppo", "--curiosity", "icm", "--set", "n_steps=32"]
    args += [f"curiosity_encoder={pretrained}"]
    assert main([*args, "--run-dir", str(run), "--eval-every", "0"]) == 0
    phi = rlsuite.load(run).curiosity.module.phi
    pretrained_encoder = load_encoder(pretrained)
    inner = phi[0] if isinstance(phi, torch.nn.Sequential) else phi  # + a linear to its width
    assert type(inner) is type(pretrained_encoder)
    assert inner.spec == pretrained_encoder.spec  # the same architecture, rebuilt from the run


def test_curiosity_encoder_is_refused_for_rnd(pretrained, capsys):
    args = ["train", GAME, "--env-kwargs", "obs_mode=pixels", "--curiosity", "rnd"]
    assert main([*args, "--set", f"curiosity_encoder={pretrained}"]) == 2
    assert "curiosity_encoder is ICM's phi" in capsys.readouterr().err
