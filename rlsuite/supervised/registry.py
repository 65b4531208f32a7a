"""The models of ``rlsuite fit``, by name, and the one interface they share.

A model is one small class (like an agent): a ``name``, a ``Config`` dataclass of checked
settings (:mod:`rlsuite.config` kinds, so ``--set key=value`` is validated like an agent's),
``build(spec)`` that makes its networks for the data's shapes, ``train_step(batch)`` that
returns its losses, ``evaluate(split)`` that returns held-out metrics, and its checkpoint state.
The training loop (:mod:`rlsuite.supervised.fit`) owns epochs, logging and checkpoints, so a
model file holds only the lecture's idea::

    class CNN(Model):
        name = "cnn"
        description = "convolution + ReLU + pooling stacks, then fully connected and softmax"
        Config = CNNConfig
        data_kinds = ("images",)
        needs_labels = True

        def build(self, spec): ...
        def train_step(self, batch): ...  # {"loss": ..., "accuracy": ...}
        def evaluate(self, split): ...    # {"loss": ..., "accuracy": ...}

Metric names: "loss" is logged as supervised/train_loss (from `train_step`) and
supervised/val_loss (from `evaluate`), "accuracy" as supervised/val_accuracy; any other key k as
supervised/train_k or supervised/val_k. Models that produce pictures (GAN samples,
reconstructions, attention maps) return them from `images`.

An encoder (for the agents' perception) also implements `features`: an observation batch in, a
(B, feature_size) tensor out.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from rlsuite.config import BATCH_SIZE, POSITIVE, Settings, setting
from rlsuite.errors import ConfigError
from rlsuite.supervised.data import Batch, DataSpec, Split, iterate_batches

# name -> "module:Class". Modules are imported when a model is asked for, so listing the names
# costs nothing; each engineer adds their models' lines here.
MODELS: dict[str, str] = {
    "cnn": "rlsuite.supervised.cnn:CNN",
    "transformer": "rlsuite.supervised.transformer:Transformer",
    "dcgan": "rlsuite.supervised.gan:DCGAN",
    "wgan-gp": "rlsuite.supervised.gan:WGANGP",
    "ae": "rlsuite.supervised.selfsup:AE",
    "dae": "rlsuite.supervised.selfsup:DAE",
    "mae": "rlsuite.supervised.selfsup:MAE",
    "simclr": "rlsuite.supervised.selfsup:SimCLRModel",
    "byol": "rlsuite.supervised.selfsup:BYOLModel",
}


@dataclass(frozen=True)
class ModelConfig(Settings):
    """Settings every model has; a model's Config subclasses this and adds its own."""

    batch_size: int = setting(64, BATCH_SIZE)
    learning_rate: float = setting(1e-3, POSITIVE)


class Model(abc.ABC):
    """A model that `rlsuite fit` trains: see the module docstring."""

    name: ClassVar[str]
    description: ClassVar[str]  # one line for `rlsuite models`
    Config: ClassVar[type[ModelConfig]] = ModelConfig
    data_kinds: ClassVar[tuple[str, ...]] = ("images",)  # DataSpec.kind values it trains on
    needs_labels: ClassVar[bool] = False
    default_epochs: ClassVar[int] = 10
    # Which validation metric picks best.pt: (key, "max" or "min"); a key `evaluate` does not
    # return (GANs) makes best.pt the last epoch.
    selection: ClassVar[tuple[str, str]] = ("loss", "min")

    def __init__(
        self, config: ModelConfig, spec: DataSpec, seed: int = 0, device: str = "cpu"
    ) -> None:
        check_data(type(self), spec)
        self.config = config
        self.spec = spec
        self.seed = seed
        self.device = torch.device(device)
        torch.manual_seed(seed)  # the networks' initial weights come from the seed
        # The model's own randomness (noise, masks, augmentations) after the initial weights.
        self.generator = torch.Generator().manual_seed(seed)
        self.build(spec)

    @classmethod
    def epochs_for(cls, data: str) -> int:
        """The default number of epochs on `data` (a --data value)."""
        return cls.default_epochs

    # --- what each model writes ---------------------------------------------------------------

    @abc.abstractmethod
    def build(self, spec: DataSpec) -> None:
        """Make the networks (on ``self.device``) and optimisers for data of shape `spec`."""

    @abc.abstractmethod
    def train_step(self, batch: Batch) -> dict[str, float]:
        """One gradient step on `batch` (already on the device); its losses and metrics."""

    @abc.abstractmethod
    def evaluate(self, split: Split) -> dict[str, float]:
        """Metrics on a held-out split (validation or test), without gradients."""

    def images(self, split: Split) -> dict[str, torch.Tensor]:
        """Pictures for TensorBoard: tag -> (C, H, W) tensor in [0, 1]; none by default."""
        return {}

    def modules(self) -> dict[str, Any]:
        """What a checkpoint saves: every network, optimiser and learning-rate schedule that is
        an attribute of the model, by attribute name."""
        kinds = (nn.Module, torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler)
        return {key: value for key, value in vars(self).items() if isinstance(value, kinds)}

    # Encoders (perception): an observation batch in, a (B, feature_size) tensor out.
    feature_size: int = 0

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} is not an encoder")

    # --- shared -----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain data only (checkpoints are read with weights_only=True)."""
        state = {name: module.state_dict() for name, module in self.modules().items()}
        state["generator"] = self.generator.get_state()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, module in self.modules().items():
            module.load_state_dict(state[name])
        self.generator.set_state(state["generator"])

    def batches(self, split: Split, batch_size: int | None = None) -> Iterator[Batch]:
        """`split` in order, in minibatches on the device (for `evaluate`)."""
        for x, y in iterate_batches(split, batch_size or self.config.batch_size):
            yield self.to_device(x, y)

    def to_device(self, x: torch.Tensor, y: torch.Tensor | None) -> Batch:
        return Batch(x.to(self.device), y.to(self.device) if y is not None else None)

    def set_train_mode(self, training: bool) -> None:
        """nn.Module.train/eval on every network (dropout, batch norm)."""
        for module in self.modules().values():
            if isinstance(module, nn.Module):
                module.train(training)


def picture(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) images as TensorBoard can show them: 1, 3 or 4 channels as they are; a stack
    of frames (oldest first, as the games stack them) as its latest frame's colours."""
    channels = images.shape[1]
    if channels in (1, 3, 4):
        return images
    return images[:, -3:] if channels % 3 == 0 else images[:, -1:]


def image_grid(images: torch.Tensor, columns: int = 8, scale: int = 1) -> torch.Tensor:
    """(N, C, H, W) pictures in [0, 1] as one (C, rows*(H+1)+1, columns*(W+1)+1) grid with
    1-pixel gray lines between them, each pixel repeated `scale` times (8x8 digits are tiny);
    stacked frames show their latest frame (`picture`)."""
    images = picture(images.detach().float().cpu().clamp(0, 1))
    if scale > 1:
        images = images.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    n, c, h, w = images.shape
    columns = min(columns, n)
    rows = -(-n // columns)
    grid = torch.full((c, rows * (h + 1) + 1, columns * (w + 1) + 1), 0.5)
    for i, image in enumerate(images):
        top, left = 1 + (i // columns) * (h + 1), 1 + (i % columns) * (w + 1)
        grid[:, top : top + h, left : left + w] = image
    return grid


def model_class(name: str) -> type[Model]:
    """The model called `name` (any case); ConfigError with the list for an unknown one."""
    key = name.strip().lower().replace("_", "-")
    if key not in MODELS:
        raise ConfigError(f"unknown model {name!r}; models: {', '.join(MODELS)}")
    module, cls = MODELS[key].split(":")
    return getattr(importlib.import_module(module), cls)


def make_model_config(cls: type[Model], overrides: dict[str, Any] | None = None) -> ModelConfig:
    """`cls`'s Config with `overrides` (strings converted and checked, like ``--set``)."""
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    for key in overrides or {}:
        if key not in fields:
            raise ConfigError(f"{cls.name} has no setting {key!r}; settings: {', '.join(fields)}")
    return cls.Config(**(overrides or {}))


def check_data(cls: type[Model], spec: DataSpec) -> None:
    """ConfigError when `cls` cannot train on data `spec` (tokens for an image model, no labels
    for a classifier)."""
    if spec.kind not in cls.data_kinds:
        wanted = "images (digits, a .npz file, a folder)" if "images" in cls.data_kinds else ""
        wanted = wanted or "token sequences (reverse, sort)"
        raise ConfigError(f"{cls.name} trains on {wanted}, not on {spec.name} ({spec.kind})")
    if cls.needs_labels and spec.kind == "images" and not spec.labelled:
        raise ConfigError(
            f"{cls.name} needs labelled images; {spec.name} has no labels (a .npz 'labels' "
            "array, or one sub-folder per class)"
        )


def list_models() -> list[tuple[str, str]]:
    """(name, description) of every model, for `rlsuite models`."""
    return [(name, model_class(name).description) for name in MODELS]
