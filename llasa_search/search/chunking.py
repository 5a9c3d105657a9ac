"""Text chunking for long inputs, the paper's rule: more than 100 characters -> 2 chunks, more than 200 -> 3,
and so on (n = ceil(len / 100)). Splits fall on sentence ends, else clause marks, else spaces, choosing the
boundary nearest to equal-length pieces. Each chunk is searched as its own utterance (same voice prompt) and
the chosen audio of the chunks is joined in order."""
from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from ..engine import default_request_ids
from ..errors import ConfigError
from .trace import SearchResult

CHUNK_CHARS = 100
_SENTENCE = re.compile(r"(?<=[.!?。！？…])\s*")
_CLAUSE = re.compile(r"(?<=[,;:，；：、—])\s*")


def num_chunks(text: str, chunk_chars: int = CHUNK_CHARS) -> int:
    return max(1, math.ceil(len(text.strip()) / chunk_chars))


def _boundaries(text: str) -> list[tuple[int, int]]:
    """Candidate split points (position, strength): 2 = sentence end, 1 = clause mark, 0 = space."""
    points = {}
    for strength, pattern in ((0, re.compile(r"\s+")), (1, _CLAUSE), (2, _SENTENCE)):
        for m in pattern.finditer(text):
            if 0 < m.end() < len(text):
                points[m.end()] = max(points.get(m.end(), -1), strength)
    return sorted(points.items())


def split_text(text: str, chunk_chars: int = CHUNK_CHARS) -> list[str]:
    text = text.strip()
    n = num_chunks(text, chunk_chars)
    if n == 1:
        return [text]
    points = _boundaries(text)
    cuts, last = [], 0
    for k in range(1, n):
        target = len(text) * k / n
        window = len(text) / (2 * n)  # accept a boundary within half a chunk of the ideal cut
        usable = [(p, s) for p, s in points if last < p and abs(p - target) <= window]
        if not usable:  # no boundary nearby (e.g. Chinese without punctuation): cut at the target
            usable = [(int(round(target)), -1)]
        best = max(s for _, s in usable)
        pos = min((p for p, s in usable if s == best), key=lambda p: abs(p - target))
        cuts.append(pos)
        last = pos
    pieces, start = [], 0
    for c in cuts + [len(text)]:
        piece = text[start:c].strip()
        if piece:
            pieces.append(piece)
        start = c
    return pieces


def run_chunked(ctx, strategy, requests, seed: int) -> list[SearchResult]:
    """Split each request's text, search all chunks of all requests as one batch, join per request."""
    chunk_reqs, owners = [], []
    for i, (req, rid) in enumerate(zip(requests, default_request_ids(requests))):
        if req.continuation and num_chunks(req.text) > 1:
            raise ConfigError(f"request {req.request_id or i}: chunking a continuation is not supported (later chunks "
                             "would continue the prompt audio with text that does not follow it); synthesize "
                             "continuations without --chunk")
        for j, piece in enumerate(split_text(req.text)):
            chunk_reqs.append(dataclasses.replace(req, text=piece, request_id=f"{rid}#chunk{j}"))
            owners.append(rid)
    prepared = ctx.engine.prepare(chunk_reqs)
    chunk_results = strategy.search(ctx, prepared, seed)
    texts = {p.request_id: p.request.text for p in prepared}
    prompt_ids = {p.request_id: list(p.prompt_ids) for p in prepared}
    joined = {}
    for rid, res in zip(owners, chunk_results):
        joined.setdefault(rid, []).append(res)
        ctx.request_ledgers[rid].merge(ctx.request_ledgers.pop(res.request_id))
    out = []
    for rid, parts in joined.items():
        names = sorted(set().union(*(p.scores for p in parts)))
        out.append(SearchResult(
            request_id=rid, strategy=strategy.name, config=strategy.config.to_dict(), seed=seed,
            prompt_ids=parts[0].prompt_ids, chosen_uid=None, codes=[c for p in parts for c in p.codes],
            audio=np.concatenate([p.audio for p in parts]) if parts else np.zeros(0, np.float32),
            sample_rate=parts[0].sample_rate,
            scores={n: float(np.mean([p.scores[n] for p in parts if n in p.scores])) for n in names},
            candidates=[c for p in parts for c in p.candidates], ledger={},
            flags=sorted(set().union(*(p.flags for p in parts))),
            chunks=[{"request_id": p.request_id, "text": texts[p.request_id], "prompt_ids": prompt_ids[p.request_id],
                     "chosen_uid": p.chosen_uid, "scores": p.scores, "codes": len(p.codes)} for p in parts]))
    return out
