"""The convolutional classifier: stacks of convolution, ReLU and pooling, then flatten, fully
connected layers and softmax (the lecture's CNN), with depthwise-separable convolutions as the
lecture's network-compression option.

A stage is ``convs_per_stage`` times (3x3 convolution, ReLU), then 2x2 max pooling, which halves
the picture; the channel widths of the stages are ``channels``. A depthwise-separable convolution
(MobileNet, Howard et al. 2017) replaces one k x k convolution over all channels (k*k*C_in*C_out
weights) by a k x k convolution per channel and a 1 x 1 convolution that mixes them
(k*k*C_in + C_in*C_out weights).

The classification helpers (`classification_step`, `evaluate_classifier`) are shared with the
transformer's image classifier.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rlsuite.config import (
    FLAG,
    LAYER_SIZES,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    PROBABILITY,
    setting,
)
from rlsuite.supervised.data import Batch, DataSpec, Split
from rlsuite.supervised.registry import Model, ModelConfig


@dataclass(frozen=True)
class CNNConfig(ModelConfig):
    learning_rate: float = setting(3e-3, POSITIVE)
    channels: tuple[int, ...] = setting((32, 64), LAYER_SIZES)  # conv widths, one per stage
    convs_per_stage: int = setting(2, POSITIVE_INT)  # (conv, ReLU) pairs before each pooling
    kernel_size: int = setting(3, POSITIVE_INT)
    hidden_sizes: tuple[int, ...] = setting((128,), LAYER_SIZES)  # fully connected, then softmax
    separable: bool = setting(False, FLAG)  # depthwise-separable convolutions
    dropout: float = setting(0.25, PROBABILITY)  # before each fully connected layer
    weight_decay: float = setting(1e-4, NON_NEGATIVE)  # AdamW's decoupled L2
    shift: int = setting(1, NON_NEGATIVE_INT)  # augmentation: random translation by <= this many px


class DepthwiseSeparableConv(nn.Sequential):
    """A k x k convolution per input channel, then a 1 x 1 convolution across channels."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels, in_channels, kernel_size, padding=kernel_size // 2, groups=in_channels
            ),
            nn.Conv2d(in_channels, out_channels, 1),
        )


def conv_stack(
    in_channels: int,
    channels: tuple[int, ...],
    convs_per_stage: int,
    kernel_size: int,
    separable: bool,
    size: int,
) -> tuple[nn.Sequential, int]:
    """The convolution stages and the side of the picture they leave (from side `size`).

    Pooling stops once the picture is 1 pixel wide, so small inputs (digits: 8x8) still take
    several stages.
    """
    layers: list[nn.Module] = []
    for width in channels:
        for _ in range(convs_per_stage):
            if separable and in_channels > 1:  # on one channel there is nothing to separate
                layers.append(DepthwiseSeparableConv(in_channels, width, kernel_size))
            else:
                layers.append(nn.Conv2d(in_channels, width, kernel_size, padding=kernel_size // 2))
            layers.append(nn.ReLU())
            in_channels = width
        if size >= 2:
            layers.append(nn.MaxPool2d(2))
            size //= 2
    return nn.Sequential(*layers), size


class ConvNet(nn.Module):
    """conv stages -> flatten -> fully connected -> class logits (softmax lives in the loss)."""

    def __init__(self, config: CNNConfig, shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        channels, height, width = shape
        self.convolutions, side = conv_stack(
            channels,
            config.channels,
            config.convs_per_stage,
            config.kernel_size,
            config.separable,
            min(height, width),
        )
        with torch.no_grad():  # the flattened size, measured rather than worked out by hand
            flat = self.convolutions(torch.zeros(1, *shape)).flatten(1).shape[1]
        layers: list[nn.Module] = []
        for hidden in config.hidden_sizes:
            layers += [nn.Dropout(config.dropout), nn.Linear(flat, hidden), nn.ReLU()]
            flat = hidden
        self.fully_connected = nn.Sequential(*layers)
        self.feature_size = flat
        self.head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(flat, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer: (B, feature_size)."""
        return self.fully_connected(self.convolutions(x).flatten(1))  # (B, C*H*W) -> (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, num_classes) logits


def random_shift(x: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image translated by up to `max_shift` pixels (zero padding, then a random crop)."""
    if max_shift == 0:
        return x
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)  # (B, C, H + 2s, W + 2s)
    offsets = torch.randint(0, 2 * max_shift + 1, (b, 2), generator=generator)
    rows = (offsets[:, :1] + torch.arange(h)).to(x.device)  # (B, H)
    cols = (offsets[:, 1:] + torch.arange(w)).to(x.device)  # (B, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    # (B, C, H+2s, W+2s) -> (B, H, W, C) by advanced indexing, then back to (B, C, H, W)
    crops = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]
    return crops.permute(0, 3, 1, 2)


def classification_step(
    net: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> dict[str, float]:
    """One step of cross-entropy (softmax + negative log-likelihood) on a labelled batch."""
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    accuracy = (logits.argmax(1) == y).float().mean()
    return {"loss": loss.item(), "accuracy": accuracy.item()}


@torch.no_grad()
def evaluate_classifier(model: Model, net: nn.Module, split: Split) -> dict[str, float]:
    """Mean cross-entropy and accuracy of `net` over `split`."""
    net.eval()
    total_loss, correct = 0.0, 0
    for x, y in model.batches(split, batch_size=512):
        logits = net(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    net.train()
    return {"loss": total_loss / len(split), "accuracy": correct / len(split)}


class CNN(Model):
    """A convolutional image classifier."""

    name = "cnn"
    description = (
        "convolution + ReLU + pooling stacks, then fully connected and softmax; image "
        "classification (separable=true: depthwise-separable convolutions)"
    )
    Config = CNNConfig
    data_kinds = ("images",)
    needs_labels = True
    default_epochs = 50
    selection = ("accuracy", "max")

    def build(self, spec: DataSpec) -> None:
        self.net = ConvNet(self.config, spec.shape, spec.num_classes).to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(),
            lr=self.config.learning_rate,
            weight_decay=self.config.weight_decay,
        )
        self.feature_size = self.net.feature_size

    def train_step(self, batch: Batch) -> dict[str, float]:
        x = random_shift(batch.x, self.config.shift, self.generator)
        return classification_step(self.net, self.optimizer, x, batch.y)

    def evaluate(self, split: Split) -> dict[str, float]:
        return evaluate_classifier(self, self.net, split)

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> torch.Tensor:
        self.net.eval()
        out = self.net.features(x.to(self.device))
        self.net.train()
        return out

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities: the softmax of the logits, (B, num_classes)."""
        self.net.eval()
        probabilities = F.softmax(self.net(x.to(self.device)), dim=1)
        self.net.train()
        return probabilities

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())
