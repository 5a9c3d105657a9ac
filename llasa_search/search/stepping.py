"""Shared loops: run states to completion, with progress on long work, within a token budget."""
from __future__ import annotations

import math
import os
from collections import Counter

from ..prompts import SPEECH_TOKENS_PER_SECOND
from .base import budget_left_tokens


def bar_disabled(hidden_here: bool) -> bool:
    """A bar's `disable`: hidden when the caller says so or the user set TQDM_DISABLE (passing disable=False to
    tqdm would override that variable)."""
    return hidden_here or os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")


def run_to_end(ctx, states, chunk: int = SPEECH_TOKENS_PER_SECOND, progress: bool | None = None,
               config=None) -> list:
    """Extend all states in one batch until every one has finished (END or max length).
    Extending in 1-second chunks keeps the batch compact and lets a progress bar move.

    With a token budget in `config`, an utterance's states stop at the first chunk boundary where it has spent
    its budget, and chunks shrink near the end (ceil(left / live rows) tokens), so an utterance overshoots its
    budget by less than one token per live row. Returns the states left unfinished by the budget."""
    from tqdm.auto import tqdm

    live = [s for s in states if not s.finished]
    if not live:
        return []
    longest = max(s.max_length - s.length for s in live)
    # no total: most rows end on END long before the length cap, so a cap-sized total would stall at a few percent
    bar = tqdm(unit="tok", desc=f"generating (at most {longest})", leave=False,
               disable=bar_disabled(progress is False or (progress is None and longest < 500)))
    cut = []
    while live:
        step = chunk
        if config is not None and config.budget_tokens is not None:
            left = {rid: budget_left_tokens(ctx, config, rid) for rid in {s.request_id for s in live}}
            cut += [s for s in live if left[s.request_id] <= 0]
            live = [s for s in live if left[s.request_id] > 0]
            if not live:
                break
            rows = Counter(s.request_id for s in live)
            step = max(1, min(chunk, min(math.ceil(left[rid] / n) for rid, n in rows.items())))
        ctx.backend.extend(live, step)
        live = [s for s in live if not s.finished]
        bar.update(min(step, max(0, longest - bar.n)))
    bar.close()
    return cut
