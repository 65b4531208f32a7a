"""The parameters as one vector theta, and RMSprop written out over it.

``flatten_parameters`` makes every weight and bias of a network a view into one flat vector theta,
and every gradient a view into one flat vector grad: the update is then literally the lecture's
``theta <- theta - eta * grad`` on two vectors, and an optimizer, a gradient norm or a clip is one
tensor operation instead of one per layer (at A2C's 40-sample batches, those per-layer calls cost
more than the arithmetic).

RMSprop, the optimizer of A3C/A2C, Tieleman & Hinton (2012), as used by Mnih et al. (2016, A3C) and
Stable-Baselines3's A2C::

    v     <- alpha * v + (1 - alpha) * g^2          (a running mean of squared gradients)
    theta <- theta - lr * g / (sqrt(v) + eps)       (each weight's step scaled by its own size)

It computes what ``torch.optim.RMSprop([theta], lr, alpha, eps)`` computes (to float rounding).

``tf_like=True`` is TensorFlow's variant, which the original A2C (OpenAI baselines) ran on and
Stable-Baselines3 ships as ``RMSpropTFLike``: v starts at 1 instead of 0, and eps goes inside the
square root, ``theta <- theta - lr * g / sqrt(v + eps)``. Starting at 0, torch's first steps divide
g by ``sqrt(0.01 g^2) = 0.1 |g|``: every weight moves by about ``10 lr`` at once, whatever its
gradient's size; starting at 1, the first steps are about ``lr * g`` and grow as v learns the
gradient's scale (v forgets its start as ``alpha^t``: 1% left after 460 steps).
torch's class wraps every ``step`` in hooks, profiling and option checks, and each torch call costs
microseconds, which at A2C's tiny batches (40 samples) is more than the arithmetic; this one works
in numpy on zero-copy views of theta, its gradient and v, a microsecond per operation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def flatten_parameters(parameters: list[torch.nn.Parameter]) -> torch.nn.Parameter:
    """Move `parameters` into one flat vector theta (returned, with ``theta.grad`` allocated).

    Each parameter keeps its shape and its place in its module, but its storage becomes a slice of
    theta and its ``.grad`` a slice of ``theta.grad``; backward accumulates into those slices in
    place, so ``theta.grad`` is the whole gradient. Zero it with ``theta.grad.zero_()`` (never set
    a parameter's ``.grad`` to None, which would cut it loose from the flat vector).
    """
    total = sum(p.numel() for p in parameters)
    device = parameters[0].device  # theta lives where the parameters do (CPU or GPU)
    theta = torch.nn.Parameter(torch.zeros(total, device=device))
    theta.grad = torch.zeros(total, device=device)
    offset = 0
    for p in parameters:
        n = p.numel()
        theta.data[offset : offset + n] = p.data.reshape(-1)
        p.data = theta.data[offset : offset + n].view_as(p)
        p.grad = theta.grad[offset : offset + n].view_as(p)
        offset += n
    return theta


class RMSprop:
    """The RMSprop update of one flat parameter vector theta (``flatten_parameters``).

    ``param_groups[0]["lr"]`` is the step size, where torch optimizers keep it.
    ``state_dict``/``load_state_dict`` hold only tensors and floats (weights_only checkpoints).
    """

    def __init__(
        self,
        theta: torch.nn.Parameter,
        lr: float,
        alpha: float,
        eps: float,
        tf_like: bool = False,
    ) -> None:
        self.alpha, self.eps, self.tf_like = alpha, eps, tf_like
        self.param_groups = [{"lr": lr}]
        # v: TensorFlow starts it at 1, torch at 0 (module docstring: what that changes).
        self.square_avg = torch.full_like(theta.detach(), 1.0 if tf_like else 0.0)
        self.parameter = theta
        if not theta.is_cpu:  # a GPU's memory has no numpy view: step_torch does the same
            return
        # Views sharing memory with the tensors: writing them writes theta and v in place.
        self.theta, self.grad = theta.detach().numpy(), theta.grad.numpy()
        self.v = self.square_avg.numpy()
        self.scratch = np.empty_like(self.theta)  # intermediate results, no allocation per step

    def step(self) -> None:
        if not self.parameter.is_cpu:
            self.step_torch()
            return
        g, v, d = self.grad, self.v, self.scratch
        lr = self.param_groups[0]["lr"]
        v *= self.alpha  # v <- alpha v
        np.multiply(g, g, out=d)
        d *= 1.0 - self.alpha
        v += d  # ... + (1 - alpha) g^2
        if self.tf_like:
            np.add(v, self.eps, out=d)
            np.sqrt(d, out=d)  # d = sqrt(v + eps)
        else:
            np.sqrt(v, out=d)
            d += self.eps  # d = sqrt(v) + eps
        np.divide(g, d, out=d)
        d *= lr
        self.theta -= d  # theta <- theta - lr g / d

    @torch.no_grad()
    def step_torch(self) -> None:
        """``step`` in torch operations, for a theta on a GPU (the same update, line by line)."""
        g, v, lr = self.parameter.grad, self.square_avg, self.param_groups[0]["lr"]
        v.mul_(self.alpha).addcmul_(g, g, value=1.0 - self.alpha)  # alpha v + (1 - alpha) g^2
        d = (v + self.eps).sqrt() if self.tf_like else v.sqrt() + self.eps
        self.parameter.sub_(lr * g / d)  # theta <- theta - lr g / d

    def state_dict(self) -> dict[str, Any]:
        return {"square_avg": self.square_avg.clone(), "lr": self.param_groups[0]["lr"]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.square_avg.copy_(state["square_avg"])
        self.param_groups[0]["lr"] = float(state["lr"])
