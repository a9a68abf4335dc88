"""How an engine's inputs are cut into batches, and how a batch's time is shared.

Length-sorted, token-budget batches: the engine template every backend runs under
(``models.base``)."""

from __future__ import annotations

from typing import Sequence


def plan_batches(lengths: Sequence[int], batch_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Indices of ``lengths`` sorted longest first and cut into batches.

    A batch's padded size (its size times its longest input) stays within
    ``batch_tokens`` and its size within ``max_batch_size``; an input longer
    than the budget goes alone. Longest first makes any memory problem show up
    on the first batch.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for index in order:
        width = max(longest, lengths[index])
        if current and (width * (len(current) + 1) > batch_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current, width = [], lengths[index]
        current.append(index)
        longest = width
    if current:
        batches.append(current)
    return batches


def split_by_weight(seconds: float, weights: Sequence[int]) -> list[float]:
    """Share a batch's time between its segments in proportion to their tokens."""
    total = sum(weights) or 1
    return [seconds * weight / total for weight in weights]


def relative_cap(cap: tuple[float, int], input_tokens: int) -> int:
    """The output cap of an input of ``input_tokens`` under a cap relative to it (factor,
    margin): factor x input, rounded up, + margin."""
    factor, margin = cap
    return int(factor * input_tokens + 0.999999) + margin
