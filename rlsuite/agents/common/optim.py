"""The parameters as one vector theta, and RMSprop written out over it.

``flatten_parameters`` makes every weight and bias of a network a view into one flat vector theta,
and every gradient a view into one flat vector grad: the update is then literally the lecture's
``theta <- theta - eta * grad`` on two vectors, and an optimizer, a gradient norm or a clip is one
tensor operation instead of one per layer (at A2C's 40-sample batches, those per-layer calls cost
more than the arithmetic).

RMSprop, the optimizer of A3C/A2C, in five tensor operations:

Tieleman & Hinton (2012), as used by Mnih et al. (2016, A3C) and Stable-Baselines3's A2C::

    v     <- alpha * v + (1 - alpha) * g^2          (a running mean of squared gradients)
    theta <- theta - lr * g / (sqrt(v) + eps)       (each weight's step scaled by its own size)

It computes what ``torch.optim.RMSprop(params, lr, alpha, eps)`` computes. torch's class wraps
every ``step`` in hooks, profiling and option checks, which at A2C's tiny batches (40 samples)
costs more than the arithmetic; this one calls the ``torch._foreach_*`` kernels directly, one call
per operation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def flatten_parameters(parameters: list[torch.nn.Parameter]) -> torch.nn.Parameter:
    """Move `parameters` into one flat vector theta (returned, with ``theta.grad`` allocated).

    Each parameter keeps its shape and its place in its module, but its storage becomes a slice of
    theta and its ``.grad`` a slice of ``theta.grad``; backward accumulates into those slices in
    place, so ``theta.grad`` is the whole gradient. Zero it with ``theta.grad.zero_()`` (never set
    a parameter's ``.grad`` to None, which would cut it loose from the flat vector).
    """
    total = sum(p.numel() for p in parameters)
    theta = torch.nn.Parameter(torch.zeros(total))
    theta.grad = torch.zeros(total)
    offset = 0
    for p in parameters:
        n = p.numel()
        theta.data[offset : offset + n] = p.data.reshape(-1)
        p.data = theta.data[offset : offset + n].view_as(p)
        p.grad = theta.grad[offset : offset + n].view_as(p)
        offset += n
    return theta


class RMSprop:
    """The RMSprop update over a list of parameters; ``param_groups[0]["lr"]`` is the step size.

    ``state_dict``/``load_state_dict`` hold only tensors and floats (weights_only checkpoints).
    """

    def __init__(
        self, params: Iterable[torch.nn.Parameter], lr: float, alpha: float, eps: float
    ) -> None:
        self.params = list(params)
        self.alpha, self.eps = alpha, eps
        self.param_groups = [{"lr": lr}]  # the same place torch optimizers keep it
        self.square_avg = [torch.zeros_like(p) for p in self.params]  # v, one per parameter

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        lr = self.param_groups[0]["lr"]
        torch._foreach_mul_(self.square_avg, self.alpha)  # v <- alpha v
        torch._foreach_addcmul_(self.square_avg, grads, grads, value=1 - self.alpha)  # + (1-a) g^2
        denominators = torch._foreach_sqrt(self.square_avg)  # sqrt(v)
        torch._foreach_add_(denominators, self.eps)  # sqrt(v) + eps
        torch._foreach_addcdiv_(self.params, grads, denominators, value=-lr)  # theta -= lr g / d

    def state_dict(self) -> dict[str, Any]:
        return {
            "square_avg": [v.clone() for v in self.square_avg],
            "lr": self.param_groups[0]["lr"],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for v, saved in zip(self.square_avg, state["square_avg"], strict=True):
            v.copy_(saved)
        self.param_groups[0]["lr"] = float(state["lr"])
