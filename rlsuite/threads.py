"""How many threads one process's arithmetic uses: torch's and numpy's alike.

A run's ``torch_threads`` (one by default: small networks are fastest on one) sets torch's
thread pool, and numpy's BLAS too, since the agents act and (for MLPs) backpropagate in numpy.
numpy's OpenBLAS otherwise starts a thread per core, and its threads wait for work by spinning:
two runs side by side on two cores (two trials of a sweep, two benchmark jobs) then fight over
the cores, and an A2C run on Racer (its 512-row batches are large enough for OpenBLAS to split)
took 30 s for 200k steps instead of 6.4 s (measured 2026-12-04; alone, both take 6.4 s).
"""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_limits


def use_threads(n: int) -> None:
    """torch's intra-op threads and numpy's BLAS threads, for the rest of this process."""
    torch.set_num_threads(n)
    threadpool_limits(limits=n, user_api="blas")
