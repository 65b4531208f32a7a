"""One interface for every encoder: an observation tensor in, a feature vector out, with its size.

An *encoder* is an ``nn.Module`` with

- ``obs_shape``: the shape of one observation, images channels-last ``(H, W, C)`` as the games
  and Gymnasium give them;
- ``out_dim``: the size of its features;
- ``forward(obs)``: ``(B, *obs_shape)`` (uint8 or float, in the data's own units: 0..255 for
  game frames, 0..16 for the digits) -> features ``(B, out_dim)``;
- ``spec``: plain data (a dict of builtins) from which :func:`build_encoder` makes the same
  architecture again, so that a saved encoder is weights + data, never code.

The agents' nets (``--encoder RUN_DIR``), the self-supervised models (``selfsup.py``) and the
linear probe all take any module that keeps this contract. The architectures built in:

- ``game-cnn``: the agents' own CNN for game frames (``agents.common.nets.CNNEncoder``: one
  convolution per 4x4 pixels, then neighbourhoods, then a linear layer), so an encoder
  pretrained on frames and the CNN an agent learns from scratch are the same network;
- ``conv``: a small padded CNN for small images (the 8x8 digits), convolutions with ReLU, then
  a linear layer;
- ``cell-map``: one convolution per cell of the game's grid (kernel = stride = the cell's side
  in pixels), then 1x1 convolutions: a ``(rows, cols, channels)`` map, one code per cell, that
  keeps where everything is (``--set cell=8`` for KeyDoor-8x8's 64x64 frames);
- ``cell-keypoints``: the same per-cell layers ending in K score maps, each read out by a
  spatial softmax as a keypoint: its expected (x, y) on the grid and how peaked it is
  (``--set cell=8 keypoints=16``): where things are, as coordinates.

An encoder made by ``rlsuite pretrain`` comes out *standardised* (``"standardize": true`` in its
spec, :class:`StandardizedEncoder`): each feature shifted and scaled by its mean and std over
the frames it was pretrained on, so the agent's network gets inputs of order 1.

A saved encoder file (``encoder.pt``, format ``rlsuite-encoder``) holds the spec and the weights
and loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from rlsuite.agents.common.nets import CNNEncoder, layer_init
from rlsuite.checkpoints import load_weights_only, save_checkpoint
from rlsuite.errors import RlsuiteError

if TYPE_CHECKING:  # for annotations only: fit is imported where it is used, as before
    from rlsuite.supervised.fit import FitConfig

ENCODER_FORMAT = "rlsuite-encoder"
ENCODER_VERSION = 2  # 2: standardised encoders (a spec's "standardize")
ENCODER_FILE = "encoder.pt"  # in a pretraining or fit run folder
KINDS = ("game-cnn", "game-cnn-map", "conv", "cell-map", "cell-keypoints")


class ConvEncoder(nn.Module):
    """Padded 3x3 convolutions with ReLU (stride 1 or 2), flatten, linear, ReLU.

    For small images such as the 8x8 digits, where the game CNN's 4x4-stride-4 first layer would
    leave almost nothing: ``channels=(32, 64)``, ``strides=(1, 2)`` on 8x8 gives a 4x4x64 map.
    """

    def __init__(
        self,
        obs_shape: tuple[int, int, int],
        out_dim: int = 128,
        channels: tuple[int, ...] = (32, 64),
        strides: tuple[int, ...] = (1, 2),
        pixel_scale: float = 1 / 255,
    ):
        super().__init__()
        height, width, in_channels = obs_shape
        self.pixel_scale = pixel_scale
        layers = []
        for out_channels, stride in zip(channels, strides, strict=True):
            layers.append(layer_init(nn.Conv2d(in_channels, out_channels, 3, stride, padding=1)))
            in_channels = out_channels
            height, width = (height - 1) // stride + 1, (width - 1) // stride + 1
        self.convs = nn.ModuleList(layers)
        self.linear = layer_init(nn.Linear(in_channels * height * width, out_dim))
        self.out_dim = out_dim

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Images ``(B, H, W, C)`` in their own units -> features ``(B, out_dim)``."""
        x = obs.float().permute(0, 3, 1, 2) * self.pixel_scale  # (B, C, H, W) in 0..1
        for conv in self.convs:
            x = F.relu(conv(x))  # (B, c, h, w)
        return F.relu(self.linear(x.flatten(1)))  # (B, out_dim)


class CellMapEncoder(CNNEncoder):
    """The game CNN without its linear layer: the features are the convolutions' map, flattened
    ``(B, h * w * 32)`` in (row, column, channel) order.

    Where the agent's CNN ends in a linear layer that policy learning shapes, this encoder stops
    at what the convolutions see in each neighbourhood of cells; frozen, it is the agent's eyes,
    and the agent's own MLP (``hidden_sizes``) reads the map.
    """

    def __init__(self, obs_space: gym.Space):
        super().__init__(obs_space, out_dim=1)
        del self.linear  # the map is the output
        height, width, _ = obs_space.shape
        rows, cols = (_conv_out(_conv_out(side, 4, 4), 3, 2) for side in (height, width))
        self.map_shape = (rows, cols, self.neighbour_conv.out_channels)
        self.out_dim = rows * cols * self.neighbour_conv.out_channels

    def forward_chw(self, pixels: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
        x = self.conv_map(pixels, scale)  # (B, 32, h, w)
        return x.permute(0, 2, 3, 1).flatten(1)  # (B, h * w * 32)


class CellGridEncoder(nn.Module):
    """One code per cell of the game's grid: conv ``cell x cell`` with stride ``cell`` (each
    output sees exactly one cell, as the game draws it), ReLU, then 1x1 convolutions with ReLU
    (a small MLP applied to every cell alone). The features are the ``(rows, cols, channels)``
    map, flattened in (row, column, channel) order.

    The game CNN's features mix neighbourhoods of cells; a compact code then loses *where* the
    agent, the key and the door are, which is what a grid policy needs. Here position is kept
    by construction: feature ``(r, c, :)`` describes cell ``(r, c)`` only, so a frozen, trained
    encoder turns pixels into something close to a grid of what each cell holds.
    """

    def __init__(
        self,
        obs_shape: tuple[int, int, int],
        cell: int,
        channels: tuple[int, ...] = (64, 16),
        pixel_scale: float = 1 / 255,
    ):
        super().__init__()
        height, width, in_channels = obs_shape
        if cell < 1 or height % cell or width % cell:
            raise RlsuiteError(
                f"cell={cell} must divide the {height}x{width} frames into whole cells"
            )
        self.cell, self.pixel_scale = cell, pixel_scale
        self.cell_conv = layer_init(nn.Conv2d(in_channels, channels[0], cell, stride=cell))
        self.pointwise = nn.ModuleList(
            layer_init(nn.Conv2d(a, b, 1)) for a, b in zip(channels[:-1], channels[1:], strict=True)
        )
        self.map_shape = (height // cell, width // cell, channels[-1])
        self.out_dim = height // cell * (width // cell) * channels[-1]

    def cell_codes(self, obs: torch.Tensor, layers: Sequence[nn.Module]) -> torch.Tensor:
        """Frames ``(B, H, W, C)`` in 0..255 -> ``(B, c, rows, cols)``: the cell convolution, then
        the 1x1 `layers`, each with ReLU."""
        x = obs.float().permute(0, 3, 1, 2) * self.pixel_scale  # (B, C, H, W) in 0..1
        x = F.relu(self.cell_conv(x))  # (B, c0, rows, cols): one vector per cell
        for conv in layers:
            x = F.relu(conv(x))  # (B, c, rows, cols)
        return x

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, H, W, C)`` in 0..255 -> features ``(B, rows * cols * channels)``."""
        x = self.cell_codes(obs, self.pointwise)
        return x.permute(0, 2, 3, 1).flatten(1)  # (B, rows * cols * channels)


class KeypointEncoder(CellGridEncoder):
    """Keypoints by a spatial softmax (Levine et al. 2016; Finn et al. 2016, "Deep spatial
    autoencoders"): the per-cell layers end in K score maps s_k(r, c); a softmax over the
    cells turns each into a distribution p_k(r, c), read out as

        x_k = sum p_k(r, c) * c',  y_k = sum p_k(r, c) * r',  peak_k = max p_k(r, c)

    with r', c' the cells' centres scaled to -1..1. The features are (x_k, y_k, peak_k) for
    every k: 3K numbers. Positions come as coordinates, so "which way to the key" is a
    difference of two features, as in a game's symbolic observation; ``peak_k`` (1: one cell,
    1 / cells: spread out) says how sure the keypoint is of its place.
    """

    def __init__(
        self,
        obs_shape: tuple[int, int, int],
        cell: int,
        keypoints: int = 16,
        pixel_scale: float = 1 / 255,
    ):
        super().__init__(obs_shape, cell, (64, 64, keypoints), pixel_scale)
        rows, cols, _ = self.map_shape
        self.keypoint_count = keypoints
        self.out_dim = 3 * keypoints
        # The cells' centres in -1..1 (0 for a single row or column), row-major like the map.
        ys = torch.linspace(-1, 1, rows) if rows > 1 else torch.zeros(1)
        xs = torch.linspace(-1, 1, cols) if cols > 1 else torch.zeros(1)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (rows, cols) each
        self.register_buffer("grid_x", grid_x.flatten(), persistent=False)
        self.register_buffer("grid_y", grid_y.flatten(), persistent=False)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, H, W, C)`` in 0..255 -> ``(B, 3K)``: (x, y, peak) of each keypoint."""
        *hidden, scores = self.pointwise
        x = self.cell_codes(obs, hidden)  # (B, 64, rows, cols)
        scores = scores(x).flatten(2)  # (B, K, rows * cols): no ReLU, these are logits
        p = scores.softmax(dim=2)  # a distribution over the cells, per keypoint
        keypoints = torch.stack([p @ self.grid_x, p @ self.grid_y, p.amax(dim=2)], dim=2)
        return keypoints.flatten(1)  # (B, 3K)


class StandardizedEncoder(nn.Module):
    """An encoder whose features come out standardised, as VecNormalize does for observations:

        clip((f - mean) / sqrt(var + eps), -10, 10)

    per feature, but with the mean and variance measured once, over the frames the encoder was
    pretrained on (:func:`standardize`), and then fixed: they are buffers, saved with the
    weights, never trained and never updated by the agent.

    Why: a frozen encoder's features can carry what the agent needs in tiny numbers. The
    keypoints' softmax spreads over the cells, so a keypoint's x moves by a few thousandths
    when the agent walks one cell. A linear probe rescales that for free; a policy network
    initialised for inputs of order 1 barely sees it (A2C on KeyDoor-8x8's keypoints stayed
    below success 0.3 in 1M steps; standardised, they take it to 0.95 in 131k steps on most
    seeds, as fast as the game's symbolic state).
    """

    def __init__(self, encoder: nn.Module, clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.encoder = encoder
        self.obs_shape, self.out_dim = encoder.obs_shape, encoder.out_dim
        self.spec = {**encoder.spec, "standardize": True}  # build_encoder makes it again
        self.clip, self.eps = clip, eps
        self.register_buffer("feature_mean", torch.zeros(encoder.out_dim))
        self.register_buffer("feature_var", torch.ones(encoder.out_dim))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        features = self.encoder(obs)
        scaled = (features - self.feature_mean) / torch.sqrt(self.feature_var + self.eps)
        return scaled.clamp(-self.clip, self.clip)


def standardize(encoder: nn.Module, frames: np.ndarray) -> StandardizedEncoder:
    """`encoder` wrapped to standardise its features by their mean and variance over
    `frames` (the pretraining frames)."""
    features = encode(encoder, frames).astype(np.float64)
    standardized = StandardizedEncoder(encoder)
    standardized.feature_mean.copy_(torch.from_numpy(features.mean(axis=0)))
    standardized.feature_var.copy_(torch.from_numpy(features.var(axis=0)))
    return standardized


def _conv_out(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


def cell_spec(obs_shape: tuple[int, ...], cell: int, channels: int = 16) -> dict:
    """A ``cell-map`` encoder for frames of `obs_shape` (H, W, C) drawn in ``cell``-pixel cells:
    a hidden 1x1 layer of 64, then `channels` features per cell."""
    if len(obs_shape) != 3:
        raise RlsuiteError(
            f"encoders take images of shape (H, W, C), not observations of shape {obs_shape}"
        )
    return {
        "kind": "cell-map",
        "obs_shape": list(obs_shape),
        "cell": cell,
        "channels": [64, channels],
    }


def keypoint_spec(obs_shape: tuple[int, ...], cell: int, keypoints: int = 16) -> dict:
    """A ``cell-keypoints`` encoder for frames of `obs_shape` drawn in ``cell``-pixel cells."""
    cell_spec(obs_shape, cell)  # the same checks
    return {
        "kind": "cell-keypoints",
        "obs_shape": list(obs_shape),
        "cell": cell,
        "keypoints": keypoints,
    }


def default_spec(obs_shape: tuple[int, ...], pixel_max: float = 255.0, out_dim: int = 0) -> dict:
    """The built-in encoder for images of `obs_shape` (H, W, C) whose pixels go up to
    `pixel_max`: for frames of 32 pixels or more (drawn in cells of 4 pixels or more) the game
    CNN's convolutions, their map as the features (``out_dim=0``) or followed by a linear layer
    of `out_dim`; else the small padded CNN (``out_dim=0``: 128 features).
    """
    if len(obs_shape) != 3:
        raise RlsuiteError(
            f"encoders take images of shape (H, W, C), not observations of shape {obs_shape}"
        )
    height, width, _ = obs_shape
    if height >= 32 and width >= 32:  # game frames: the convolutions' map, or a linear layer
        if out_dim == 0:
            return {"kind": "game-cnn-map", "obs_shape": list(obs_shape)}
        return {"kind": "game-cnn", "obs_shape": list(obs_shape), "out_dim": out_dim}
    return {
        "kind": "conv",
        "obs_shape": list(obs_shape),
        "out_dim": out_dim or 128,
        "channels": [32, 64],
        "strides": [1, 2],
        "pixel_scale": 1.0 / pixel_max,
    }


def build_encoder(spec: dict[str, Any]) -> nn.Module:
    """The encoder a spec describes, freshly initialised (from the current torch seed)."""
    kind = spec.get("kind")
    obs_shape = tuple(int(n) for n in spec["obs_shape"])
    if kind == "game-cnn":
        space = gym.spaces.Box(0, 255, obs_shape, dtype=np.uint8)
        encoder = CNNEncoder(space, out_dim=int(spec["out_dim"]))
    elif kind == "game-cnn-map":
        encoder = CellMapEncoder(gym.spaces.Box(0, 255, obs_shape, dtype=np.uint8))
    elif kind == "conv":
        encoder = ConvEncoder(
            obs_shape,
            int(spec["out_dim"]),
            tuple(spec["channels"]),
            tuple(spec["strides"]),
            float(spec["pixel_scale"]),
        )
    elif kind == "cell-map":
        encoder = CellGridEncoder(obs_shape, int(spec["cell"]), tuple(spec["channels"]))
    elif kind == "cell-keypoints":
        encoder = KeypointEncoder(obs_shape, int(spec["cell"]), int(spec["keypoints"]))
    else:
        raise RlsuiteError(f"unknown encoder kind {kind!r}; kinds: {', '.join(KINDS)}")
    encoder.obs_shape = obs_shape
    encoder.spec = {**spec, "obs_shape": list(obs_shape)}
    encoder.spec.pop("standardize", None)
    if spec.get("standardize"):  # its statistics come with the weights
        return StandardizedEncoder(encoder)
    return encoder


def save_encoder(encoder: nn.Module, path: str | Path, source: dict[str, Any]) -> Path:
    """Write ``encoder.pt``: spec, weights and where they came from (method, data, run)."""
    path = Path(path)
    state = {name: tensor.detach().cpu() for name, tensor in encoder.state_dict().items()}
    payload = {
        "format": ENCODER_FORMAT,
        "format_version": ENCODER_VERSION,
        "spec": encoder.spec,
        "state": state,
        "source": source,
    }
    save_checkpoint(payload, path)
    return path


def encoder_file(target: str | Path) -> Path | None:
    """The ``encoder.pt`` of `target` (a run folder, or the file itself); None when `target` is
    another run folder or checkpoint (an ``rlsuite fit`` run, see `load_encoder`)."""
    target = Path(target)
    if not target.exists():
        raise RlsuiteError(f"no such encoder run folder or file: {target}")
    if target.is_dir():
        target = target / ENCODER_FILE
        return target if target.is_file() else None
    # A file: an encoder file, whatever its name, or a fit run's checkpoint.
    return None if target.parent.name == "checkpoints" else target


def read_encoder(path: str | Path) -> dict[str, Any]:
    """A saved encoder file: ``{"spec", "state", "source"}``."""
    advice = "give a `rlsuite pretrain` run folder or its encoder.pt"
    data = load_weights_only(path, "encoder", advice)
    if not isinstance(data, dict) or data.get("format") != ENCODER_FORMAT:
        raise RlsuiteError(f"{path} is not an rlsuite encoder file")
    if data.get("format_version", 0) > ENCODER_VERSION:
        raise RlsuiteError(f"{path} was written by a newer rlsuite; upgrade rlsuite to read it")
    return data


def load_encoder(target: str | Path) -> nn.Module:
    """The pretrained encoder, with its weights, of `target`: a ``rlsuite pretrain`` run folder
    or its ``encoder.pt``, or an ``rlsuite fit`` run (folder or checkpoint) of a
    self-supervised model (ae, dae, mae, simclr, byol), standardised over its training split."""
    path = encoder_file(target)
    if path is None:
        return _fit_run_encoder(Path(target))
    data = read_encoder(path)
    encoder = build_encoder(data["spec"])
    encoder.load_state_dict(data["state"])
    encoder.source = str(path)
    return encoder


def _fit_run_encoder(target: Path) -> nn.Module:
    """The encoder of a fit run's model (best.pt, else last.pt), its features standardised over
    the run's training images, as ``rlsuite pretrain`` standardises over its frames."""
    from rlsuite.supervised.fit import load_fitted

    model, config = load_fitted(target)
    encoder = getattr(model, "encoder", None)
    if not isinstance(encoder, nn.Module) or not hasattr(encoder, "spec"):
        raise RlsuiteError(
            f"{target} holds a {model.name} model, which is not an encoder; give a run of "
            "ae, dae, mae, simclr or byol (`rlsuite pretrain` or `rlsuite fit`)"
        )
    encoder = standardize(encoder.cpu(), _training_images(config, target))
    encoder.source = str(target)
    return encoder.train()


def _training_images(config: FitConfig, target: Path) -> np.ndarray:
    """The training split of the fit run `target` (its `FitConfig`), ``(N, H, W, C)`` uint8 as
    encoders take frames (a quarter of the float split's memory)."""
    from rlsuite.supervised.data import load_dataset

    try:
        train = load_dataset(config.data, config.label).train.x  # (N, C, H, W) in [0, 1]
    except RlsuiteError as exc:
        raise RlsuiteError(
            f"the encoder of {target} is standardised over the data it was fitted on, which "
            f"cannot be read now ({exc}); restore {config.data} or give an `rlsuite pretrain` run"
        ) from None
    parts = [(part * 255).round().to(torch.uint8) for part in train.split(4096)]
    return torch.cat(parts).permute(0, 2, 3, 1).numpy()


def check_fits(encoder: nn.Module, obs_space: gym.Space) -> None:
    """Raise RlsuiteError unless the encoder takes observations of `obs_space`'s shape."""
    shape = tuple(getattr(obs_space, "shape", None) or ())
    if tuple(encoder.obs_shape) != shape:
        raise RlsuiteError(
            f"the encoder takes observations of shape {tuple(encoder.obs_shape)}, the env gives "
            f"{shape}; pretrain on this env's observations (same obs_mode and frame_stack)"
        )


@torch.no_grad()
def encode(encoder: nn.Module, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Features ``(N, out_dim)`` of a numpy array of observations, in batches, no gradients."""
    was_training = encoder.training
    encoder.eval()
    parts = [
        encoder(torch.as_tensor(images[start : start + batch_size])).numpy()
        for start in range(0, len(images), batch_size)
    ]
    encoder.train(was_training)
    return np.concatenate(parts) if parts else np.zeros((0, encoder.out_dim), np.float32)


def agent_encoder(
    path: str | None, saved: dict[str, Any] | None, obs_space: gym.Space
) -> nn.Module | None:
    """The pretrained encoder an agent is built with, or None for the agent's own trunk.

    From `saved` (an agent's state about to be loaded: checkpoint, ``Agent.save`` file) when it
    holds one: the architecture is rebuilt from the saved spec and the weights come with the
    state, so eval, watch, resume and ``rlsuite.load`` never need the encoder's folder. Else
    from `path` (``--encoder RUN_DIR``), with its pretrained weights.
    """
    info = (saved or {}).get("encoder")
    if info:
        encoder = build_encoder(info["spec"])
        encoder.source = info.get("source", "")
    elif path:
        encoder = load_encoder(path)
    else:
        return None
    check_fits(encoder, obs_space)
    return encoder


def linear_probe(
    encoder: nn.Module,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
) -> float:
    """Test accuracy of a linear classifier on the frozen encoder's features.

    The standard yardstick of self-supervised features (SimCLR sec. 4, BYOL sec. 4.1): only a
    logistic regression (multinomial, L2, features standardised on the training split) is fitted;
    the encoder is not touched. Images are (N, H, W, C) in 0..255, as the encoder takes them.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(encode(encoder, train_images), train_labels)
    return float(classifier.score(encode(encoder, test_images), test_labels))
