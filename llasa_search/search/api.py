"""`run_search`: the one call the CLI and the study pipeline use."""
from __future__ import annotations

from typing import Sequence

from ..engine import LlasaEngine, PreparedRequest, SynthesisRequest
from ..generation.ledger import TOTAL
from ..generation import SamplingConfig
from .base import Strategy
from .chunking import run_chunked
from .context import SearchContext
from .registry import make_strategy


def load_verifiers(names: Sequence[str], options: dict | None = None) -> dict:
    """name -> verifier instance (models load lazily on first use). `options[name]` are constructor kwargs."""
    from verifiers import create_verifier

    options = options or {}
    return {name: create_verifier(name, **options.get(name, {})) for name in dict.fromkeys(names)}


def run_search(engine: LlasaEngine, requests: Sequence[SynthesisRequest | PreparedRequest], strategy="sampling",
               config=None, verifiers=None, seed: int = 0, sampling: SamplingConfig | None = None,
               chunking: bool = False) -> list:
    """Search every request (as one batch) and return one SearchResult per request, in order.

    `verifiers`: names (loaded here) or {name: Verifier}. `chunking`: split texts over 100 characters into
    chunks (the paper's rule), search each chunk and join the audio (see chunking.py).
    Each result's `ledger` holds that utterance's own costs in the schema of generation/ledger.py (tokens, codec
    and verifier seconds and FLOPs exact; wall time shared out by generated tokens). `run_search_with_ledger` also
    returns the whole batch's ledger.
    """
    return run_search_with_ledger(engine, requests, strategy, config, verifiers, seed, sampling, chunking)[0]


def run_search_with_ledger(engine, requests, strategy="sampling", config=None, verifiers=None, seed=0,
                           sampling=None, chunking=False):
    strat = make_strategy(strategy, config)
    if verifiers is None:
        verifiers = {}
    if not isinstance(verifiers, dict):
        verifiers = load_verifiers(verifiers)
    missing = [v for v in strat.required_verifiers() if v not in verifiers]
    if missing:
        verifiers = {**verifiers, **load_verifiers(missing)}
    ids = [r.request_id for r in requests if r.request_id is not None]
    if len(set(ids)) != len(ids):
        raise ValueError(f"request ids must be unique within a batch; repeated: "
                         f"{sorted({i for i in ids if ids.count(i) > 1})}")
    ctx = SearchContext(engine, verifiers, sampling)
    with ctx.ledger.timer(TOTAL):
        results = _search(ctx, strat, engine, requests, seed, chunking)
    for res in results:
        ctx.ledger.charge_candidates(res.request_id, sum(1 for c in res.candidates if c.role == "final"))
        res.ledger = ctx.ledger.request_dict(res.request_id)
    return results, ctx.ledger.to_dict()


def _search(ctx, strat, engine, requests, seed, chunking) -> list:
    if chunking:  # chunks are prepared from the raw requests' texts
        if any(isinstance(r, PreparedRequest) for r in requests):
            raise ValueError("chunking needs SynthesisRequests (the text is split before preparing)")
        results = run_chunked(ctx, strat, list(requests), seed)
    else:
        raw = iter(engine.prepare([r for r in requests if not isinstance(r, PreparedRequest)]))
        prepared = [r if isinstance(r, PreparedRequest) else next(raw) for r in requests]
        final_ids = [p.request_id for p in prepared]
        if len(set(final_ids)) != len(final_ids):
            raise ValueError("request ids collide (an explicit id equals a default 'req<i>' id); give every request "
                             "its own request_id")
        results = strat.search(ctx, prepared, seed)
    return results
