"""Self-supervised learning: features from images without labels (the lecture's last chapter).

Each model owns an encoder (``encoders.py``: obs -> features, the one interface) and the few
parts its method adds, and exposes ``loss(images, generator) -> (loss, metrics)``; the training
loop (``pretrain.py``) is the same for all. ``images`` are ``(B, H, W, C)`` in the data's own
units (0..255 frames, 0..16 digits); reconstructions are compared in 0..1.

- ``ae``: auto-encoder. encoder -> code -> decoder -> the image again; the code must keep what
  the image holds.
- ``dae``: denoising auto-encoder (Vincent et al. 2008). The same, from a corrupted input (noise,
  dropped pixels) back to the clean image: the code cannot just copy pixels.
- ``mae``: masked modelling, BERT's idea on images (as SimMIM, Xie et al. 2022): blank a random
  share of patches, reconstruct them from what is left; the loss counts the masked patches only.
- ``simclr``: contrastive (Chen et al. 2020). Two augmented views of each image; a projection
  head g; the NT-Xent loss pulls the two views of one image together and pushes the other
  2(N-1) images of the batch away.
- ``byol``: Grill et al. 2020. An online network (encoder, projector, predictor) predicts the
  projection of the other view by a target network (encoder, projector) whose weights are an
  exponential moving average of the online ones: no negatives, no gradient into the target.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from rlsuite.config import (
    BATCH_SIZE,
    DECAY,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    setting,
)
from rlsuite.errors import ConfigError
from rlsuite.supervised import augment
from rlsuite.supervised.data import Batch, DataSpec, Split
from rlsuite.supervised.encoders import build_encoder, cell_spec, default_spec, keypoint_spec
from rlsuite.supervised.registry import Model, ModelConfig, picture

METHODS = ("ae", "dae", "mae", "simclr", "byol")
Metrics = dict[str, torch.Tensor]
Loss = tuple[torch.Tensor, Metrics]  # (the loss, its named parts to log)


@dataclass(frozen=True)
class SelfSupConfig(ModelConfig):
    """Settings of the self-supervised models (``--set key=value``); defaults work on both the
    digits and game frames."""

    batch_size: int = setting(256, BATCH_SIZE)  # SimCLR needs many negatives per batch
    # The encoder's out_dim: 0 is the conv map for frames (game-cnn-map), 128 for small images;
    # with `cell`, the features of each cell (0: 16)
    features: int = setting(0, NON_NEGATIVE_INT)
    # The game's cell in pixels: > 0 gives the cell-map encoder, one code per grid cell (8 for
    # KeyDoor-8x8's 64x64 frames); 0 the game CNN
    cell: int = setting(0, NON_NEGATIVE_INT)
    # With `cell`: > 0 reads the cell map out as this many keypoints (spatial softmax: x, y, peak)
    keypoints: int = setting(0, NON_NEGATIVE_INT)
    # AE / DAE / MAE: each decoded patch is patch x patch pixels (0: 4 for frames, 2 for small)
    decoder_patch: int = setting(0, NON_NEGATIVE_INT)
    noise: float = setting(0.2, POSITIVE)  # DAE: Gaussian noise std, as a share of full scale
    drop: float = setting(0.25, PROBABILITY)  # DAE: share of pixels set to 0
    mask_ratio: float = setting(0.5, DECAY)  # MAE: share of patches masked
    mask_patch: int = setting(0, NON_NEGATIVE_INT)  # MAE: side of a masked square (0: H // 8)
    temperature: float = setting(0.2, POSITIVE)  # SimCLR: NT-Xent's tau
    projection: int = setting(128, POSITIVE_INT)  # SimCLR / BYOL: projection size
    ema_decay: float = setting(0.99, DECAY)  # BYOL: target <- decay * target + (1-decay) * online


class PatchDecoder(nn.Module):
    """Features -> an image, one ``patch x patch`` square at a time.

    A linear layer gives every patch its own small vector (``(rows, cols, width)``), then one
    transposed convolution with stride = kernel = patch paints each patch's pixels from its
    vector: the inverse of a "one output per cell" first convolution.
    """

    def __init__(self, out_dim: int, obs_shape: tuple[int, int, int], patch: int, width: int = 32):
        super().__init__()
        height, image_width, channels = obs_shape
        self.rows, self.cols = -(-height // patch), -(-image_width // patch)
        self.obs_shape, self.width = obs_shape, width
        self.linear = nn.Linear(out_dim, self.rows * self.cols * width)
        self.paint = nn.ConvTranspose2d(width, channels, patch, stride=patch)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, out_dim)`` -> images ``(B, H, W, C)`` in 0..1 units (not clamped)."""
        x = F.relu(self.linear(features)).view(-1, self.width, self.rows, self.cols)
        image = self.paint(x)  # (B, C, rows * patch, cols * patch)
        height, width, _ = self.obs_shape
        return image[:, :, :height, :width].permute(0, 2, 3, 1)  # (B, H, W, C)


class MapDecoder(nn.Module):
    """Features that are a convolution map (``CellMapEncoder``) -> an image: the encoder's two
    convolutions mirrored as transposed convolutions (neighbourhoods -> cells -> pixels)."""

    def __init__(self, map_shape: tuple[int, int, int], obs_shape: tuple[int, int, int]):
        super().__init__()
        rows, cols, channels = map_shape
        height, width, image_channels = obs_shape
        self.map_shape, self.obs_shape = map_shape, obs_shape
        # Sizes: the inverse of conv 3x3 stride 2 on (height // 4) cells, then of conv 4x4 stride 4.
        cells = height // 4
        self.neighbours = nn.ConvTranspose2d(
            channels, 16, 3, stride=2, output_padding=cells - ((rows - 1) * 2 + 3)
        )
        self.cells = nn.ConvTranspose2d(16, image_channels, 4, stride=4)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, rows * cols * channels)`` -> images ``(B, H, W, C)`` in 0..1 units."""
        x = features.view(-1, *self.map_shape).permute(0, 3, 1, 2)  # (B, channels, rows, cols)
        x = F.relu(self.neighbours(x))  # (B, 16, H / 4, W / 4)
        image = self.cells(x)  # (B, C, H, W)
        height, width, _ = self.obs_shape
        return image[:, :, :height, :width].permute(0, 2, 3, 1)


class KeypointDecoder(nn.Module):
    """Keypoints -> an image: each keypoint is drawn as a Gaussian blob on the grid of cells
    (height ``peak_k``, width one cell; Jakab et al. 2018), a learned canvas is added (what
    every frame shows in the same place), and the cells are painted from it as ``CellDecoder``
    does. The image can only come back if the keypoints say where its things are."""

    def __init__(self, encoder: nn.Module, obs_shape: tuple[int, int, int]):
        super().__init__()
        rows, cols, keypoints = encoder.map_shape
        self.grid_shape = (rows, cols)
        self.register_buffer("grid_x", encoder.grid_x.clone(), persistent=False)
        self.register_buffer("grid_y", encoder.grid_y.clone(), persistent=False)
        self.width = 2.0 / max(rows - 1, cols - 1, 1)  # one cell in -1..1 units
        self.hidden = nn.Conv2d(keypoints, 64, 1)
        self.canvas = nn.Parameter(torch.zeros(64, rows, cols))
        self.paint = nn.ConvTranspose2d(64, obs_shape[2], encoder.cell, stride=encoder.cell)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, 3K)`` -> images ``(B, H, W, C)`` in 0..1 units."""
        keypoints = features.view(len(features), -1, 3)  # (B, K, (x, y, peak))
        x, y, peak = (keypoints[:, :, i : i + 1] for i in range(3))  # (B, K, 1) each
        distance2 = (self.grid_x - x) ** 2 + (self.grid_y - y) ** 2  # (B, K, rows * cols)
        blobs = peak * torch.exp(-distance2 / (2 * self.width**2))
        blobs = blobs.view(len(features), -1, *self.grid_shape)  # (B, K, rows, cols)
        hidden = F.relu(self.hidden(blobs) + self.canvas)  # (B, 64, rows, cols)
        return self.paint(hidden).permute(0, 2, 3, 1)  # (B, H, W, C)


class CellDecoder(nn.Module):
    """The mirror of ``CellGridEncoder``: each cell's code -> a 1x1 layer of 64 -> one transposed
    convolution (kernel = stride = cell) paints that cell's pixels from its own code alone, so
    the code of a cell must say what the cell shows."""

    def __init__(self, map_shape: tuple[int, int, int], obs_shape: tuple[int, int, int], cell: int):
        super().__init__()
        rows, cols, channels = map_shape
        self.map_shape = map_shape
        self.hidden = nn.Conv2d(channels, 64, 1)
        self.paint = nn.ConvTranspose2d(64, obs_shape[2], cell, stride=cell)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """``(B, rows * cols * channels)`` -> images ``(B, H, W, C)`` in 0..1 units."""
        x = features.view(-1, *self.map_shape).permute(0, 3, 1, 2)  # (B, channels, rows, cols)
        x = F.relu(self.hidden(x))  # (B, 64, rows, cols)
        return self.paint(x).permute(0, 2, 3, 1)  # (B, H, W, C)


def mlp(sizes: list[int], batch_norm: bool = True) -> nn.Sequential:
    """Linear (+ BatchNorm) + ReLU between layers, a plain linear last: SimCLR's and BYOL's
    projection and prediction heads."""
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if k < len(sizes) - 2:
            layers += [nn.BatchNorm1d(n_out), nn.ReLU()] if batch_norm else [nn.ReLU()]
    return nn.Sequential(*layers)


class SelfSupervised(nn.Module):
    """What the methods share: the encoder, the data's scale, the pretraining hooks."""

    method: str = ""

    def __init__(self, encoder: nn.Module, config: SelfSupConfig, pixel_max: float = 255.0):
        super().__init__()
        self.encoder, self.config, self.pixel_max = encoder, config, pixel_max
        self.obs_shape = tuple(encoder.obs_shape)

    def loss(self, images: torch.Tensor, generator: torch.Generator) -> Loss:
        """The method's loss on a batch, and named parts to log."""
        raise NotImplementedError

    def after_step(self) -> None:
        """Called after each optimizer step (BYOL moves its target network here)."""

    def reconstruct(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor | None:
        """(input the model saw, its reconstruction) side by side in 0..1, for TensorBoard's
        image grid; None for the methods that do not reconstruct."""
        return None


class AutoEncoder(SelfSupervised):
    """``ae``: x -> encoder -> code -> decoder -> x_hat, loss ||x - x_hat||^2."""

    method = "ae"

    def __init__(self, encoder: nn.Module, config: SelfSupConfig, pixel_max: float = 255.0):
        super().__init__(encoder, config, pixel_max)
        patch = config.decoder_patch or (4 if self.obs_shape[0] >= 32 else 2)
        if hasattr(encoder, "keypoint_count"):
            self.decoder = KeypointDecoder(encoder, self.obs_shape)
        elif hasattr(encoder, "cell"):
            self.decoder = CellDecoder(encoder.map_shape, self.obs_shape, encoder.cell)
        elif hasattr(encoder, "map_shape"):
            self.decoder = MapDecoder(encoder.map_shape, self.obs_shape)
        else:
            self.decoder = PatchDecoder(encoder.out_dim, self.obs_shape, patch)

    def corrupt(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """What the encoder sees: the image itself (the denoising variant overrides it)."""
        return images

    def loss(self, images: torch.Tensor, generator: torch.Generator) -> Loss:
        target = images.float() / self.pixel_max  # (B, H, W, C) in 0..1
        seen = self.corrupt(images, generator)
        reconstruction = self.decoder(self.encoder(seen))
        loss = (reconstruction - target).pow(2).mean()
        return loss, {"reconstruction_loss": loss.detach()}

    def reconstruct(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        seen = self.corrupt(images, generator)
        out = self.decoder(self.encoder(seen)).clamp(0, 1)
        return torch.cat([seen.float() / self.pixel_max, out], dim=2)  # side by side on W


class DenoisingAutoEncoder(AutoEncoder):
    """``dae``: reconstruct the clean image from a corrupted one (noise + dropped pixels)."""

    method = "dae"

    def corrupt(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c = self.config
        return augment.corrupt(images, c.noise, c.drop, self.pixel_max, generator)


class MaskedModel(AutoEncoder):
    """``mae``: blank a random share of patches; reconstruct the image; loss on the blanked
    patches only (as BERT predicts only its masked tokens)."""

    method = "mae"

    def mask(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """``(B, H, W)`` bool, True where a patch is masked."""
        height, width, _ = self.obs_shape
        patch = self.config.mask_patch or max(2, height // 8)  # a KeyDoor-8x8 cell; 2x2 digits
        ratio = self.config.mask_ratio
        mask = augment.patch_mask(len(images), height, width, patch, ratio, generator)
        return mask.to(images.device)  # drawn on the CPU generator (augment.py)

    def loss(self, images: torch.Tensor, generator: torch.Generator) -> Loss:
        target = images.float() / self.pixel_max
        masked = self.mask(images, generator).unsqueeze(-1)  # (B, H, W, 1)
        seen = images.float() * ~masked  # masked patches blanked to 0
        reconstruction = self.decoder(self.encoder(seen))
        squared = (reconstruction - target).pow(2) * masked
        loss = squared.sum() / (masked.sum() * target.shape[-1])  # mean over masked pixels
        return loss, {"masked_reconstruction_loss": loss.detach()}

    def reconstruct(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        masked = self.mask(images, generator).unsqueeze(-1)
        seen = images.float() * ~masked
        out = self.decoder(self.encoder(seen)).clamp(0, 1)
        return torch.cat([seen / self.pixel_max, out], dim=2)


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """SimCLR's normalized temperature-scaled cross entropy (Chen et al. 2020, eq. 1).

    For the 2N projections, the positive of view i is the other view of the same image; the
    2N - 2 views of other images are the negatives. Each row is a softmax over all 2N - 1
    others (itself excluded) whose target is the positive; the loss averages both directions.
    """
    n = len(z1)
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2N, d), unit length: dot = cosine
    similarity = z @ z.T / temperature  # (2N, 2N)
    similarity.fill_diagonal_(float("-inf"))  # a view is not its own positive or negative
    device = similarity.device  # positives: view i <-> view i + N
    positives = torch.cat([torch.arange(n, 2 * n, device=device), torch.arange(n, device=device)])
    return F.cross_entropy(similarity, positives)


class SimCLR(SelfSupervised):
    """``simclr``: two augmented views -> encoder -> projection g -> NT-Xent."""

    method = "simclr"

    def __init__(self, encoder: nn.Module, config: SelfSupConfig, pixel_max: float = 255.0):
        super().__init__(encoder, config, pixel_max)
        self.augmentation = augment.for_images(self.obs_shape[0], pixel_max)
        # The loss is taken on g(h), not on the features h, which then keep more (paper sec. 4.2).
        self.projector = mlp([encoder.out_dim, 256, config.projection], batch_norm=True)

    def loss(self, images: torch.Tensor, generator: torch.Generator) -> Loss:
        view1 = self.augmentation(images, generator)
        view2 = self.augmentation(images, generator)
        z1, z2 = self.projector(self.encoder(view1)), self.projector(self.encoder(view2))
        loss = nt_xent(z1, z2, self.config.temperature)
        return loss, {"nt_xent": loss.detach()}


def byol_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``2 - 2 cos(q, z')``: the squared distance of the unit-length vectors (BYOL eq. 2)."""
    return (2 - 2 * F.cosine_similarity(prediction, target.detach(), dim=1)).mean()


class BYOL(SelfSupervised):
    """``byol``: online (encoder, projector, predictor) predicts the EMA target's projection."""

    method = "byol"

    def __init__(self, encoder: nn.Module, config: SelfSupConfig, pixel_max: float = 255.0):
        super().__init__(encoder, config, pixel_max)
        self.augmentation = augment.for_images(self.obs_shape[0], pixel_max)
        size = config.projection
        self.projector = mlp([encoder.out_dim, 256, size])
        self.predictor = mlp([size, 256, size])
        # The target network: a copy, never trained by gradients, moved by EMA in after_step.
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.target_projector = copy.deepcopy(self.projector).requires_grad_(False)

    def loss(self, images: torch.Tensor, generator: torch.Generator) -> Loss:
        view1 = self.augmentation(images, generator)
        view2 = self.augmentation(images, generator)
        q1 = self.predictor(self.projector(self.encoder(view1)))
        q2 = self.predictor(self.projector(self.encoder(view2)))
        with torch.no_grad():
            z1 = self.target_projector(self.target_encoder(view1))
            z2 = self.target_projector(self.target_encoder(view2))
        # Symmetric: each view's online prediction of the other view's target projection.
        loss = byol_loss(q1, z2) + byol_loss(q2, z1)
        return loss, {"byol_loss": loss.detach()}

    @torch.no_grad()
    def after_step(self) -> None:
        """target <- tau * target + (1 - tau) * online (BYOL sec. 3.1)."""
        tau = self.config.ema_decay
        pairs = [(self.target_encoder, self.encoder), (self.target_projector, self.projector)]
        for target, online in pairs:
            for t, o in zip(target.parameters(), online.parameters(), strict=True):
                t.lerp_(o, 1 - tau)
            for t, o in zip(target.buffers(), online.buffers(), strict=True):
                t.copy_(o)  # BatchNorm's running statistics


MODELS: dict[str, type[SelfSupervised]] = {
    cls.method: cls for cls in (AutoEncoder, DenoisingAutoEncoder, MaskedModel, SimCLR, BYOL)
}
DESCRIPTIONS = {
    "ae": "auto-encoder: reconstruct the image from its code",
    "dae": "denoising auto-encoder: reconstruct the clean image from a corrupted one",
    "mae": "masked modelling: reconstruct masked patches from the rest (BERT on images)",
    "simclr": "SimCLR: contrastive, two augmented views, NT-Xent loss",
    "byol": "BYOL: online predicts an EMA target network's projection, no negatives",
}


# ------------------------------------------------------------------------------------------------
# `rlsuite fit ae|dae|mae|simclr|byol`: the models above as registry Models
# ------------------------------------------------------------------------------------------------

EVAL_SEED = 12345  # the same noise, masks and views at every evaluation: comparable val losses


class SelfSupervisedModel(Model):
    """A self-supervised method as a model of ``rlsuite fit`` (registry.Model).

    The data arrive as (B, C, H, W) in [0, 1] (float) or 0..255 (uint8 game frames); the
    encoder takes (B, H, W, C) in 0..255, the games' layout and units, so that the same encoder
    serves the agents. Labels, if any, are ignored: that is the point.
    """

    Config = SelfSupConfig
    data_kinds = ("images",)
    needs_labels = False
    default_epochs = 30
    method: str = ""

    def build(self, spec: DataSpec) -> None:
        channels, height, width = spec.shape
        shape, c = (height, width, channels), self.config
        if c.keypoints and not c.cell:
            raise ConfigError("keypoints=K reads a cell map: give the cell too (e.g. cell=8)")
        if c.cell and c.keypoints:
            encoder_spec = keypoint_spec(shape, c.cell, c.keypoints)
        elif c.cell:
            encoder_spec = cell_spec(shape, c.cell, c.features or 16)
        else:
            encoder_spec = default_spec(shape, out_dim=c.features)
        encoder = build_encoder(encoder_spec)
        self.net = MODELS[self.method](encoder, self.config).to(self.device)
        self.feature_size = encoder.out_dim
        trained = [p for p in self.net.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trained, lr=self.config.learning_rate)

    @property
    def encoder(self) -> nn.Module:
        """The encoder being trained (obs -> features; encoders.py's interface)."""
        return self.net.encoder

    @staticmethod
    def to_frames(x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) data -> (B, H, W, C) in 0..255, the encoders' input."""
        frames = x.permute(0, 2, 3, 1)
        return frames if x.dtype == torch.uint8 else frames * 255.0

    def train_step(self, batch: Batch) -> dict[str, float]:
        loss, metrics = self.net.loss(self.to_frames(batch.x), self.generator)
        self.optimizer.zero_grad(set_to_none=False)
        loss.backward()
        self.optimizer.step()
        self.net.after_step()
        return {"loss": loss.item(), **{k: v.item() for k, v in metrics.items() if k != "loss"}}

    @torch.no_grad()
    def evaluate(self, split: Split) -> dict[str, float]:
        self.set_train_mode(False)
        generator = torch.Generator().manual_seed(EVAL_SEED)
        total, count = 0.0, 0
        for batch in self.batches(split):
            loss, _ = self.net.loss(self.to_frames(batch.x), generator)
            total += loss.item() * len(batch.x)
            count += len(batch.x)
        return {"loss": total / max(count, 1)}

    @torch.no_grad()
    def images(self, split: Split) -> dict[str, torch.Tensor]:
        """Input and reconstruction side by side, 8 examples stacked: (C, 8H, 2W), C 1, 3 or 4."""
        self.set_train_mode(False)
        frames = self.to_frames(split.x[:8].to(self.device))
        pairs = self.net.reconstruct(frames, torch.Generator().manual_seed(EVAL_SEED))
        if pairs is None:
            return {}
        grid = picture(pairs.permute(0, 3, 1, 2))  # (8, C<=4, H, 2W): the latest frame's colours
        return {f"supervised/{self.method}_reconstructions": torch.cat(list(grid), dim=1)}

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The encoder's features of (B, C, H, W) data."""
        return self.encoder(self.to_frames(x))


class AE(SelfSupervisedModel):
    name = method = "ae"
    description = DESCRIPTIONS["ae"]


class DAE(SelfSupervisedModel):
    name = method = "dae"
    description = DESCRIPTIONS["dae"]


class MAE(SelfSupervisedModel):
    name = method = "mae"
    description = DESCRIPTIONS["mae"]


class SimCLRModel(SelfSupervisedModel):
    name = method = "simclr"
    description = DESCRIPTIONS["simclr"]


class BYOLModel(SelfSupervisedModel):
    name = method = "byol"
    description = DESCRIPTIONS["byol"]


def make_model_class(method: str) -> type[SelfSupervisedModel]:
    """The ``rlsuite fit`` model class of `method` (one of METHODS)."""
    return {cls.method: cls for cls in (AE, DAE, MAE, SimCLRModel, BYOLModel)}[method]
