"""The self-supervised models: each fits one small batch, and each method's parts do their job."""

from __future__ import annotations

import math

import pytest
import torch

from rlsuite.supervised import augment
from rlsuite.supervised.data import Batch, load_dataset
from rlsuite.supervised.encoders import build_encoder, default_spec
from rlsuite.supervised.selfsup import (
    BYOL,
    METHODS,
    AutoEncoder,
    SelfSupConfig,
    make_model_class,
    nt_xent,
)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def model_of(method: str, digits, **settings):
    return make_model_class(method)(SelfSupConfig(**settings), digits.spec, seed=0)


def frames_of(batch: torch.Tensor) -> torch.Tensor:
    return batch.permute(0, 2, 3, 1) * 255.0  # (B, H, W, C) in 0..255, the encoders' input


@pytest.mark.parametrize("method", ["ae", "dae", "mae"])
def test_reconstruction_models_overfit_one_small_batch(digits, method):
    model = model_of(method, digits, learning_rate=3e-3)
    batch = Batch(digits.train.x[:32], None)
    first = model.train_step(batch)["loss"]
    for _ in range(100):
        last = model.train_step(batch)["loss"]
    assert last < 0.3 * first


def test_simclr_overfits_one_small_batch_each_view_finds_its_twin(digits):
    model = model_of("simclr", digits, learning_rate=3e-3, batch_size=32)
    batch = Batch(digits.train.x[:32], None)
    for _ in range(100):
        last = model.train_step(batch)["loss"]
    assert last < 0.5 * math.log(2 * 32 - 1)  # chance: the positive is one of 63 others
    model.set_train_mode(False)
    with torch.no_grad():
        generator = torch.Generator().manual_seed(1)
        frames = frames_of(batch.x)
        views = [model.net.augmentation(frames, generator) for _ in range(2)]
        z1, z2 = (
            torch.nn.functional.normalize(model.net.projector(model.encoder(v))) for v in views
        )
    nearest = (z1 @ z2.T).argmax(1)  # the other view most like each first view
    assert (nearest == torch.arange(32)).float().mean() >= 0.75


def test_byol_overfits_one_small_batch_without_collapsing(digits):
    model = model_of("byol", digits, learning_rate=3e-3)
    batch = Batch(digits.train.x[:32], None)
    first = model.train_step(batch)["loss"]
    for _ in range(100):
        last = model.train_step(batch)["loss"]
    assert last < 0.3 * first
    with torch.no_grad():
        features = model.encoder(frames_of(batch.x))
    # A collapsed encoder (BYOL's failure mode) maps every image to one point.
    assert features.std(0).mean() > 1e-2


def test_nt_xent_matches_the_formula_by_hand():
    # Two images, two identical views each, the images orthogonal: for every view the positive
    # has cosine 1 and the two views of the other image cosine 0.
    z = torch.eye(2)
    tau = 0.5
    expected = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2))
    assert nt_xent(z, z.clone(), tau).item() == pytest.approx(expected, rel=1e-6)


def test_byol_target_moves_by_ema_and_takes_no_gradient(digits):
    model = model_of("byol", digits, ema_decay=0.9)
    net: BYOL = model.net
    target_before = [p.clone() for p in net.target_encoder.parameters()]
    model.train_step(Batch(digits.train.x[:16], None))
    for before, target, online in zip(
        target_before, net.target_encoder.parameters(), net.encoder.parameters(), strict=True
    ):
        assert target.grad is None and not target.requires_grad
        torch.testing.assert_close(target, 0.9 * before + 0.1 * online)


def test_masks_cover_the_asked_share_of_whole_patches():
    mask = augment.patch_mask(5, 64, 64, 8, 0.5, torch.Generator().manual_seed(0))
    assert mask.shape == (5, 64, 64)
    patches = mask.view(5, 8, 8, 8, 8).permute(0, 1, 3, 2, 4).reshape(5, 64, 64)
    assert (patches.all(-1) == patches.any(-1)).all()  # every 8x8 square all in or all out
    assert (patches.all(-1).sum(1) == 32).all()  # exactly half the squares of each image


def test_the_masked_loss_counts_only_masked_pixels(digits):
    model = model_of("mae", digits)
    images = frames_of(digits.train.x[:8])
    generator = torch.Generator().manual_seed(0)
    mask = model.net.mask(images, generator)
    # A decoder that paints the truth everywhere except on unmasked pixels has zero loss.
    truth = images / 255.0
    model.net.decoder.forward = lambda features: torch.where(mask[..., None], truth, 1 - truth)
    loss, _ = model.net.loss(images, torch.Generator().manual_seed(0))
    assert loss.item() == pytest.approx(0.0, abs=1e-7)


def test_the_denoising_input_is_corrupted_the_target_clean(digits):
    config = SelfSupConfig(noise=0.3, drop=0.5)
    encoder = build_encoder(default_spec((8, 8, 1)))
    dae = make_model_class("dae")(config, digits.spec).net
    images = frames_of(digits.train.x[:8])
    seen = dae.corrupt(images, torch.Generator().manual_seed(0))
    assert not torch.equal(seen, images)
    assert 0 <= seen.min() and seen.max() <= 255
    assert torch.equal(AutoEncoder(encoder, config).corrupt(images, None), images)


def test_every_method_is_a_model_of_rlsuite_fit():
    from rlsuite.supervised.registry import list_models, model_class

    names = [name for name, _ in list_models()]
    for method in METHODS:
        assert method in names and model_class(method).method == method


def test_keypoints_learned_by_an_auto_encoder_follow_an_object_across_the_grid():
    # 32x32 frames of a 4x4 grid of 8-pixel cells; one white cell at a random place.
    from rlsuite.supervised.encoders import keypoint_spec

    generator = torch.Generator().manual_seed(0)
    rows, cols = torch.randint(0, 4, (2, 48), generator=generator)
    frames = torch.zeros(48, 32, 32, 3, dtype=torch.uint8)
    for i, (r, c) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        frames[i, 8 * r : 8 * r + 8, 8 * c : 8 * c + 8] = 255
    torch.manual_seed(0)
    model = AutoEncoder(
        build_encoder(keypoint_spec((32, 32, 3), cell=8, keypoints=2)), SelfSupConfig()
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        loss, _ = model.loss(frames, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    keypoints = model.encoder(frames).detach().view(48, 2, 3)  # (x, y, peak) each
    x, y = keypoints[:, :, 0], keypoints[:, :, 1]
    # One keypoint's x is the object's column, up to scale: the code says where it is.
    correlation = max(
        abs(torch.corrcoef(torch.stack([x[:, k], cols.float()]))[0, 1]) for k in range(2)
    )
    assert correlation > 0.95
    correlation = max(
        abs(torch.corrcoef(torch.stack([y[:, k], rows.float()]))[0, 1]) for k in range(2)
    )
    assert correlation > 0.95
