"""Length buckets: batches of similar-length clips, so a short clip is never padded to a long one's length.

Models that take variable-length input (CTC encoders, speaker and emotion encoders) pay for every padded sample;
Whisper is the exception (its encoder always sees a 30 s window). `length_buckets` sorts clips by length and
closes a batch when it is full or when padding its clips to the longest would add more than `max_padding` of
their real length.
"""
from __future__ import annotations

from typing import Sequence


def padded_samples(sizes: Sequence[int]) -> int:
    """Samples of padding when these clips form one batch."""
    return len(sizes) * max(sizes) - sum(sizes) if sizes else 0


def length_buckets(sizes: Sequence[int], batch_size: int, max_padding: float | None = None) -> list[list[int]]:
    """Index batches, shortest clips first. max_padding None: only batch_size limits a batch."""
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    batches: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        if cur and (len(cur) >= batch_size or (
                max_padding is not None
                and padded_samples([sizes[j] for j in cur] + [sizes[i]]) > max_padding * (sum(sizes[j] for j in cur) + sizes[i]))):
            batches.append(cur)
            cur = []
        cur.append(i)
    if cur:
        batches.append(cur)
    return batches
