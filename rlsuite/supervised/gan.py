"""Generative adversarial networks: DCGAN and WGAN-GP, optionally conditional on the class.

One adversarial trainer (:class:`GAN`); each variant supplies only its two losses (as the
lecture presents them):

- DCGAN (Radford et al. 2016): the discriminator D(x) is a logit, trained by binary
  cross-entropy to tell real from generated images; the generator maximises log D(G(z)) (the
  "non-saturating" loss, which still has gradients while D wins).
- WGAN-GP (Gulrajani et al. 2017): the critic f(x) is a score, trained to estimate the
  Wasserstein-1 distance max E[f(real)] - E[f(fake)] over 1-Lipschitz f; the Lipschitz
  constraint is a gradient penalty lambda * (||grad f(x_hat)|| - 1)^2 at random points between
  real and fake images. The critic takes `n_critic` steps per generator step, and has no batch
  norm (the penalty is per example): layer norm instead, as the paper advises (sec. 4).

Both nets are DCGAN's: the generator projects the noise z to a small picture and doubles it
with transposed convolutions; the discriminator halves it with strided convolutions. Two
settings take away what DCGAN leans on, as the WGAN-GP paper's robustness test does (its
Figure 2): ``generator_norm=none`` (no batch norm in the generator) and ``generator=mlp`` (four
fully connected layers instead of convolutions).
``conditional=true`` gives both the class as one-hot (cGAN, Mirza & Osindero 2014): appended to
z, and as constant extra image channels for the discriminator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rlsuite.config import (
    DECAY,
    FLAG,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_INT,
    TEXT,
    choice,
    setting,
)
from rlsuite.supervised.data import Batch, DataSpec, Split
from rlsuite.supervised.registry import Model, ModelConfig, image_grid

MAX_DOUBLINGS = 4  # the generator starts from a picture at least 1/16 of the image's side
MLP_LAYERS, MLP_UNITS = 4, 512  # generator=mlp
NORMS = ("batch", "layer", "none")


@dataclass(frozen=True)
class GANConfig(ModelConfig):
    latent_size: int = setting(64, POSITIVE_INT)  # the noise z ~ N(0, I)
    width: int = setting(64, POSITIVE_INT)  # channels of the widest conv layer
    conditional: bool = setting(False, FLAG)  # generate a given class (needs labels)
    n_critic: int = setting(1, POSITIVE_INT)  # discriminator steps per generator step
    beta1: float = setting(0.5, DECAY)  # Adam's momentum (0.5: DCGAN's advice)
    beta2: float = setting(0.999, DECAY)
    # Normalisation in the discriminator's hidden layers: batch (DCGAN), layer or none
    discriminator_norm: str = setting("batch", choice(*NORMS))
    # Normalisation in the generator's hidden layers: batch (DCGAN's) or none (the WGAN-GP
    # paper's robustness test, Figure 2: "no normalization in either G or D")
    generator_norm: str = setting("batch", choice("batch", "none"))
    # The generator's layers: conv (DCGAN's transposed convolutions) or mlp (4 fully connected
    # layers of 512 ReLU units, the other generator of the WGAN-GP paper's Figure 2)
    generator: str = setting("conv", choice("conv", "mlp"))
    # The CNN fit run whose features measure the Frechet distance each epoch ("": none).
    fid_cnn: str = setting("", TEXT)


@dataclass(frozen=True)
class DCGANConfig(GANConfig):
    learning_rate: float = setting(2e-4, POSITIVE)


@dataclass(frozen=True)
class WGANGPConfig(GANConfig):
    # The WGAN-GP paper's recipe (Algorithm 1): Adam(1e-4, 0, 0.9), n_critic 5, lambda 10, a
    # critic with layer norm.
    learning_rate: float = setting(1e-4, POSITIVE)
    n_critic: int = setting(5, POSITIVE_INT)
    beta1: float = setting(0.0, DECAY)
    beta2: float = setting(0.9, DECAY)
    gp_weight: float = setting(10.0, NON_NEGATIVE)  # lambda
    discriminator_norm: str = setting("layer", choice(*NORMS))


def doublings(height: int, width: int) -> int:
    """How often the generator doubles its picture: while both sides halve to >= 2 pixels."""
    k = 0
    while k < MAX_DOUBLINGS and height % 2 == 0 and width % 2 == 0 and min(height, width) >= 4:
        height, width, k = height // 2, width // 2, k + 1
    return k


def with_class(z: torch.Tensor, labels: torch.Tensor | None, num_classes: int) -> torch.Tensor:
    """The noise z with the one-hot class appended (conditional GAN); z itself when not."""
    if not num_classes:
        return z
    return torch.cat([z, F.one_hot(labels, num_classes).float()], dim=1)


def generator_norm(config: GANConfig, batch_norm: type[nn.Module], size: int) -> nn.Module:
    """`batch_norm(size)` (BatchNorm1d or 2d), or nothing with ``generator_norm=none``."""
    return batch_norm(size) if config.generator_norm == "batch" else nn.Identity()


class Generator(nn.Module):
    """z (+ one-hot class) -> linear -> (C, h0, w0) -> [transposed conv x2, BN, ReLU]* -> image.

    ``generator_norm=none`` leaves out the batch norms.
    """

    def __init__(self, config: GANConfig, shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        channels, height, width = shape
        k = doublings(height, width)
        self.start = (config.width, height >> k, width >> k)
        self.num_classes = num_classes
        self.project = nn.Sequential(
            nn.Linear(config.latent_size + num_classes, math.prod(self.start)),
            generator_norm(config, nn.BatchNorm1d, math.prod(self.start)),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        width_now = config.width
        for i in range(k):
            last = i == k - 1
            out = channels if last else max(width_now // 2, 16)
            layers.append(nn.ConvTranspose2d(width_now, out, 4, stride=2, padding=1))  # x2
            if not last:
                layers += [generator_norm(config, nn.BatchNorm2d, out), nn.ReLU()]
            width_now = out
        if k == 0:  # an image too small or odd to double: one convolution to the channels
            layers.append(nn.Conv2d(width_now, channels, 3, padding=1))
        self.upsample = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z, labels, self.num_classes)
        x = self.project(z).view(-1, *self.start)  # (B, C0, h0, w0)
        return torch.sigmoid(self.upsample(x))  # (B, C, H, W) in [0, 1], like the data


class MLPGenerator(nn.Module):
    """z (+ one-hot class) -> [linear 512, (BN), ReLU] x4 -> linear -> image."""

    def __init__(self, config: GANConfig, shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        self.shape = shape
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        size = config.latent_size + num_classes
        for _ in range(MLP_LAYERS):
            norm = generator_norm(config, nn.BatchNorm1d, MLP_UNITS)
            layers += [nn.Linear(size, MLP_UNITS), norm, nn.ReLU()]
            size = MLP_UNITS
        layers.append(nn.Linear(size, math.prod(shape)))
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        z = with_class(z, labels, self.num_classes)
        return torch.sigmoid(self.layers(z)).view(-1, *self.shape)


class Discriminator(nn.Module):
    """image (+ one-hot class channels) -> [strided conv, (norm), LeakyReLU]* -> one score.

    ``discriminator_norm``: batch norm (DCGAN), layer norm (over each example's channels and
    pixels: ``GroupNorm`` with one group, which keeps examples apart as a gradient penalty
    needs) or none.
    """

    def __init__(self, config: GANConfig, shape: tuple[int, ...], num_classes: int) -> None:
        super().__init__()
        channels, height, width = shape
        k = max(doublings(height, width), 1)
        self.num_classes = num_classes
        layers: list[nn.Module] = []
        in_channels = channels + num_classes
        for i in range(k):
            out = max(config.width >> (k - 1 - i), 16)
            layers.append(nn.Conv2d(in_channels, out, 4 if height >= 4 else 3, 2, 1))  # /2
            if i > 0 and config.discriminator_norm == "batch":  # not the first (DCGAN's advice)
                layers.append(nn.BatchNorm2d(out))
            elif i > 0 and config.discriminator_norm == "layer":
                layers.append(nn.GroupNorm(1, out))
            layers.append(nn.LeakyReLU(0.2))
            in_channels = out
        self.convolutions = nn.Sequential(*layers)
        with torch.no_grad():
            flat = self.convolutions(torch.zeros(1, channels + num_classes, height, width))
        self.score = nn.Linear(flat.numel(), 1)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            b, _, h, w = images.shape
            one_hot = F.one_hot(labels, self.num_classes).float()  # (B, K)
            images = torch.cat([images, one_hot[:, :, None, None].expand(b, -1, h, w)], dim=1)
        return self.score(self.convolutions(images).flatten(1)).squeeze(1)  # (B,)


def gradient_penalty(
    critic: Discriminator,
    real: torch.Tensor,
    fake: torch.Tensor,
    labels: torch.Tensor | None,
    generator: torch.Generator,
) -> torch.Tensor:
    """E[(||grad_x f(x_hat)|| - 1)^2] at x_hat on random points of the lines real-fake."""
    mix = torch.rand(real.shape[0], 1, 1, 1, generator=generator).to(real.device)
    x_hat = (mix * real + (1 - mix) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat, labels).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


class GAN(Model):
    """The adversarial training loop; DCGAN and WGAN-GP supply `discriminator_loss` and
    `generator_loss`."""

    data_kinds = ("images",)
    default_epochs = 100
    selection = ("frechet_distance", "min")  # only where fid_cnn is set; else best is last

    def build(self, spec: DataSpec) -> None:
        c = self.config
        classes = spec.num_classes if c.conditional else 0
        if c.conditional and not spec.labelled:
            from rlsuite.errors import ConfigError

            raise ConfigError(f"conditional=true needs labelled images; {spec.name} has none")
        generator = Generator if c.generator == "conv" else MLPGenerator
        self.generator_net = generator(c, spec.shape, classes).to(self.device)
        self.discriminator = Discriminator(c, spec.shape, classes).to(self.device)
        betas = (c.beta1, c.beta2)
        self.generator_optimizer = torch.optim.Adam(
            self.generator_net.parameters(), lr=c.learning_rate, betas=betas
        )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=c.learning_rate, betas=betas
        )
        self.steps = torch.zeros((), dtype=torch.long)  # discriminator steps so far
        # Fixed noise: the sample grid shows the same z every epoch, so progress is visible.
        generator = torch.Generator().manual_seed(self.seed + 1)
        self.fixed_noise = torch.randn(64, c.latent_size, generator=generator)
        self._fid = None

    # --- what the variants supply -----------------------------------------------------------

    def discriminator_loss(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # --- the shared loop --------------------------------------------------------------------

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.latent_size, generator=self.generator).to(self.device)

    def conditions(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return labels if self.config.conditional else None

    def train_step(self, batch: Batch) -> dict[str, float]:
        """One discriminator step; a generator step after every `n_critic` of them."""
        labels = self.conditions(batch.y)
        with torch.no_grad():
            fake = self.generator_net(self.noise(len(batch.x)), labels)
        d_loss, metrics = self.discriminator_loss(batch.x, fake, labels)
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.discriminator_optimizer.step()
        self.steps += 1
        if int(self.steps) % self.config.n_critic == 0:
            fake = self.generator_net(self.noise(len(batch.x)), labels)
            g_loss = self.generator_loss(self.discriminator(fake, labels))
            self.generator_optimizer.zero_grad(set_to_none=True)
            g_loss.backward()
            self.generator_optimizer.step()
            metrics["generator_loss"] = g_loss.item()
        return {"loss": d_loss.item(), **metrics}

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | None = None) -> torch.Tensor:
        """`n` generated images (B, C, H, W) in [0, 1]; classes `labels` when conditional (else
        drawn uniformly)."""
        self.generator_net.eval()
        if self.config.conditional and labels is None:
            labels = torch.randint(0, self.spec.num_classes, (n,), generator=self.generator)
        if labels is not None:
            labels = labels.to(self.device)
        images = self.generator_net(self.noise(n), labels)
        self.generator_net.train()
        return images

    @torch.no_grad()
    def evaluate(self, split: Split) -> dict[str, float]:
        """The discriminator's loss on held-out real images against as many generated ones;
        where `fid_cnn` names a CNN run, the Frechet distance and the classifier score."""
        self.set_train_mode(False)
        total, n = 0.0, 0
        for x, y in self.batches(split, batch_size=256):
            labels = self.conditions(y)
            fake = self.generator_net(self.noise(len(x)), labels)
            with torch.enable_grad():  # the gradient penalty differentiates the critic
                loss, _ = self.discriminator_loss(x, fake, labels)
            total, n = total + loss.item() * len(x), n + len(x)
        self.set_train_mode(True)
        metrics = {"loss": total / n}
        if self.config.fid_cnn:
            from rlsuite.supervised.fid import FeatureNet

            if self._fid is None:
                self._fid = FeatureNet.from_run(self.config.fid_cnn)
            labels = split.y if self.config.conditional else None
            samples = self.sample(len(split), labels)
            metrics["frechet_distance"] = self._fid.frechet_distance(samples, split.x)
            metrics["classifier_score"] = self._fid.classifier_score(samples)
        return metrics

    @torch.no_grad()
    def images(self, split: Split) -> dict[str, torch.Tensor]:
        """64 samples from the same noise every time; a row per class when conditional."""
        self.generator_net.eval()
        labels = None
        if self.config.conditional:
            labels = torch.arange(64) % self.spec.num_classes
            labels = labels.to(self.device)
        samples = self.generator_net(self.fixed_noise.to(self.device), labels)
        self.generator_net.train()
        scale = max(1, 32 // self.spec.shape[1])
        return {"gan/samples": image_grid(samples, columns=8, scale=scale)}

    def state_dict(self) -> dict:
        return {**super().state_dict(), "steps": self.steps, "fixed_noise": self.fixed_noise}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.steps = state["steps"].clone()
        self.fixed_noise = state["fixed_noise"].clone()


class DCGAN(GAN):
    """Discriminator by binary cross-entropy; the non-saturating generator loss."""

    name = "dcgan"
    default_epochs = 50
    description = "DCGAN: conv generator and discriminator, binary cross-entropy (conditional=true)"
    Config = DCGANConfig

    def discriminator_loss(self, real, fake, labels):
        real_logits = self.discriminator(real, labels)
        fake_logits = self.discriminator(fake, labels)
        loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones_like(real_logits)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        right = torch.cat([real_logits > 0, fake_logits < 0]).float().mean()
        return loss, {"discriminator_accuracy": right.item()}

    def generator_loss(self, fake_scores):
        # -log D(G(z)) rather than log(1 - D(G(z))): strong gradients while D is winning.
        return F.binary_cross_entropy_with_logits(fake_scores, torch.ones_like(fake_scores))


class WGANGP(GAN):
    """A critic estimating the Wasserstein distance, kept 1-Lipschitz by a gradient penalty."""

    name = "wgan-gp"
    # 15,000 critic steps, 3,000 generator steps on digits (FD still falling at 2,000: seed 0)
    default_epochs = 750
    description = "WGAN-GP: Wasserstein critic with gradient penalty, n_critic steps per G step"
    Config = WGANGPConfig

    def build(self, spec: DataSpec) -> None:
        if self.config.discriminator_norm == "batch":
            from rlsuite.errors import ConfigError

            raise ConfigError(
                "wgan-gp's critic cannot use discriminator_norm=batch: the gradient penalty is "
                "per example and batch norm mixes them; use layer or none"
            )
        super().build(spec)

    def discriminator_loss(self, real, fake, labels):
        wasserstein = (
            self.discriminator(real, labels).mean() - self.discriminator(fake, labels).mean()
        )
        penalty = gradient_penalty(self.discriminator, real, fake, labels, self.generator)
        loss = -wasserstein + self.config.gp_weight * penalty
        return loss, {
            "wasserstein_distance": wasserstein.item(),
            "gradient_penalty": penalty.item(),
        }

    def generator_loss(self, fake_scores):
        return -fake_scores.mean()  # raise the critic's score of generated images
