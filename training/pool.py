"""Rendering jobs over forked workers, with the one rule both training sets need."""

from __future__ import annotations

import multiprocessing as mp
from typing import Callable, Sequence, TypeVar

import torch

J = TypeVar("J")
R = TypeVar("R")


def render_map(fn: Callable[[J], R], jobs: Sequence[J], workers: int, chunksize: int = 1) -> list[R]:
    """``[fn(j) for j in jobs]``, over ``workers`` forked processes when more than one. Each
    child runs torch on one thread; the thread count is set in the children only, so a
    one-worker run keeps the caller's (and so the trainer's reductions)."""
    if workers <= 1:
        return [fn(j) for j in jobs]
    with mp.get_context("fork").Pool(workers, initializer=torch.set_num_threads, initargs=(1,)) as pool:
        return pool.map(fn, jobs, chunksize=chunksize)
