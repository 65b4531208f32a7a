"""The Frechet distance between generated and real images, measured on the features of our own
trained CNN: the lecture's idea of FID (Heusel et al. 2017), which uses Inception's features.

Each set of images is summarised by the mean and covariance of its feature vectors, as if they
were Gaussian; the Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) is

    ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))

Lower is better: 0 when the generated features are distributed like the real ones. Values
depend on the feature network and on the number of images, so compare them only when both are
the same.

Beside it, the lecture's other measure, the Inception Score, with the same CNN's classes
(`classifier_score`): quality and diversity of the generated images without real ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rlsuite.errors import RlsuiteError


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of (N, D) feature vectors, in float64."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix, by its eigenvectors."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    (S1 S2)^(1/2) is not symmetric, but its trace equals that of (A S2 A)^(1/2) with
    A = S1^(1/2), which is symmetric positive semi-definite: a stable eigenvalue problem.
    """
    root = _sqrt_psd(sigma1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root @ sigma2 @ root), 0, None)).sum()
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * cross
    return float(max(distance, 0.0))


def classifier_score(probabilities: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))): the lecture's Inception Score idea with our own classifier.

    `probabilities` (N, K) are the classifier's p(y|x) for N generated images. The score is high
    when each image's class is certain (quality) and the classes are even over all the images
    (diversity): K at best, 1 when every image gets the same distribution, as when the generator
    draws one and the same image for every z (mode collapse).
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0)  # p(y) over the generated images
    kl = (p * (np.log(p) - np.log(marginal))).sum(axis=1)
    return float(np.exp(kl.mean()))


class FeatureNet:
    """A trained CNN's last hidden layer as the feature space of the Frechet distance."""

    def __init__(self, model) -> None:
        self.model = model

    @classmethod
    def from_run(cls, run_dir: str | Path) -> FeatureNet:
        """The CNN of a `rlsuite fit cnn` run folder."""
        from rlsuite.supervised.fit import load_model

        model = load_model(run_dir)
        if model.name != "cnn":
            raise RlsuiteError(f"{run_dir} holds a {model.name}; the Frechet distance needs a cnn")
        return cls(model)

    @torch.no_grad()
    def in_batches(self, fn, images: torch.Tensor, batch_size: int = 512) -> np.ndarray:
        """fn (one of the CNN's methods) over (N, C, H, W) images, batch by batch, as numpy."""
        shape = tuple(self.model.spec.shape)
        if tuple(images.shape[1:]) != shape:
            raise RlsuiteError(
                f"the feature CNN takes images of shape {shape}, not {tuple(images.shape[1:])}"
            )
        parts = [
            fn(images[i : i + batch_size]).cpu().numpy() for i in range(0, len(images), batch_size)
        ]
        return np.concatenate(parts)

    def features(self, images: torch.Tensor) -> np.ndarray:
        """(N, D) features of (N, C, H, W) images."""
        return self.in_batches(self.model.features, images)

    def classifier_score(self, images: torch.Tensor) -> float:
        """`classifier_score` of the CNN's class probabilities for `images`."""
        return classifier_score(self.in_batches(self.model.predict_proba, images))

    def frechet_distance(self, generated: torch.Tensor, real: torch.Tensor) -> float:
        """The Frechet distance between the features of `generated` and `real` images."""
        return frechet_distance(
            *feature_statistics(self.features(generated)),
            *feature_statistics(self.features(real)),
        )
