"""Augmentations: two random "views" of one image that should keep its meaning (SimCLR, BYOL).

Contrastive learning is only as good as its augmentations: the encoder learns what the views
share and forgets what they do not. Images here are batches ``(B, H, W, C)`` in their own units
(0..255 frames, 0..16 digits); every function draws from an explicit ``torch.Generator`` so that
the same seed gives the same views. The generator lives on the CPU: draws are made there and
then moved to the images' device, so a GPU run draws the same views as a CPU run.

- Digits: a small random rotation, scale and shift (a handwritten 3 stays a 3), plus noise.
- Game frames: a shift of a few pixels (DrQ, Kostrikov et al. 2020; padding repeats the
  border) and brightness jitter. No flips or large crops: left/right and the key's cell matter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class Augmentation:
    """How strongly to distort each view; ``pixel_max`` is the data's brightest value."""

    rotate_degrees: float = 0.0  # uniform in +-this
    scale: float = 0.0  # zoom factor uniform in 1 +- this
    shift: float = 0.0  # translation, as a fraction of the image's side, uniform in +-this
    brightness: float = 0.0  # multiply by uniform 1 +- this
    noise: float = 0.0  # Gaussian noise, std as a fraction of pixel_max
    pixel_max: float = 255.0

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One random view of each image: float ``(B, H, W, C)`` in the input's units."""
        x = images.float()
        if self.rotate_degrees or self.scale or self.shift:
            x = random_affine(x, self.rotate_degrees, self.scale, self.shift, generator)
        if self.brightness:
            factor = 1 + self.brightness * (2 * _uniform(len(x), generator) - 1)
            x = x * factor.to(x.device).view(-1, 1, 1, 1)
        if self.noise:
            noise = torch.randn(x.shape, generator=generator).to(x.device)
            x = x + self.noise * self.pixel_max * noise
        return x.clamp(0, self.pixel_max)


def for_images(height: int, pixel_max: float) -> Augmentation:
    """The default augmentation: digit-like small images, or game frames."""
    if height < 32:  # digits: handwriting varies in slant, size and place
        return Augmentation(
            rotate_degrees=15, scale=0.15, shift=0.125, noise=0.05, pixel_max=pixel_max
        )
    # Game frames: half a cell (4 px of a 64 px frame drawn in 8 px cells) of shift.
    return Augmentation(shift=4 / height, brightness=0.2, noise=0.02, pixel_max=pixel_max)


def random_affine(
    images: torch.Tensor,
    rotate_degrees: float,
    scale: float,
    shift: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Rotate, zoom and shift every image of ``(B, H, W, C)`` by its own random amounts.

    One affine sampling grid per image (``F.affine_grid``); pixels outside repeat the border,
    which for both digits (a blank border) and game frames (the outer wall) looks natural.
    """
    n = len(images)
    angle = math.radians(rotate_degrees) * (2 * _uniform(n, generator) - 1)
    zoom = 1 + scale * (2 * _uniform(n, generator) - 1)
    offset = 2 * shift * (2 * torch.stack([_uniform(n, generator), _uniform(n, generator)], 1) - 1)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack(  # (B, 2, 3): output coordinates -> input coordinates
        [torch.stack([cos, -sin, offset[:, 0]], 1), torch.stack([sin, cos, offset[:, 1]], 1)], 1
    )
    chw = images.permute(0, 3, 1, 2)  # (B, C, H, W)
    grid = F.affine_grid(theta.to(images.device), list(chw.shape), align_corners=False)
    warped = F.grid_sample(chw, grid, padding_mode="border", align_corners=False)
    return warped.permute(0, 2, 3, 1)  # (B, H, W, C)


def corrupt(
    images: torch.Tensor, noise: float, drop: float, pixel_max: float, generator: torch.Generator
) -> torch.Tensor:
    """The denoising autoencoder's input: Gaussian noise plus a fraction `drop` of pixels set to
    0 (Vincent et al. 2008's masking noise), clamped to the valid range."""
    gaussian = torch.randn(images.shape, generator=generator).to(images.device)
    x = images.float() + noise * pixel_max * gaussian
    keep = torch.rand(images.shape[:-1], generator=generator) >= drop  # (B, H, W): whole pixels
    return (x * keep.to(images.device).unsqueeze(-1)).clamp(0, pixel_max)


def patch_mask(
    n: int, height: int, width: int, patch: int, ratio: float, generator: torch.Generator
) -> torch.Tensor:
    """Masked modelling's mask: ``(n, H, W)`` bool, True on a random `ratio` of the
    ``patch x patch`` squares of each image (exactly that many per image, as BERT masks a fixed
    share of tokens)."""
    rows, cols = math.ceil(height / patch), math.ceil(width / patch)
    n_patches = rows * cols
    n_masked = max(1, round(ratio * n_patches))
    order = torch.rand((n, n_patches), generator=generator).argsort(1)
    masked = torch.zeros((n, n_patches), dtype=torch.bool)
    masked.scatter_(1, order[:, :n_masked], True)
    grid = masked.view(n, rows, cols)
    pixels = grid.repeat_interleave(patch, 1).repeat_interleave(patch, 2)
    return pixels[:, :height, :width]


def _uniform(n: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator)
