"""Shared loops: run states to completion, with progress on long work."""
from __future__ import annotations

from ..prompts import SPEECH_TOKENS_PER_SECOND


def run_to_end(ctx, states, chunk: int = SPEECH_TOKENS_PER_SECOND, progress: bool | None = None) -> None:
    """Extend all states in one batch until every one has finished (END or max length).
    Extending in 1-second chunks keeps the batch compact and lets a progress bar move."""
    from tqdm.auto import tqdm

    live = [s for s in states if not s.finished]
    if not live:
        return
    longest = max(s.max_length - s.length for s in live)
    bar = tqdm(total=longest, unit="tok", desc="generating", leave=False,
               disable=progress is False or (progress is None and longest < 500))
    done = 0
    while live:
        ctx.backend.extend(live, chunk)
        live = [s for s in live if not s.finished]
        done += chunk
        bar.update(min(chunk, max(0, longest - bar.n)))
    bar.close()
