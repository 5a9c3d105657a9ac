"""The contract every generation backend must pass (generation/protocol.py), parametrised over backends; add a
backend to BACKENDS to run it (a serving-engine backend would be skipped where its package is missing)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from llasa_search.generation import GenerationBackend, SamplingConfig


def _transformers(lm, sampling=None, max_length=None):
    from llasa_search.generation import TransformersBackend

    return TransformersBackend(lm.model, lm.vocab, sampling or SamplingConfig(), max_length=max_length or lm.max_length)


BACKENDS = {"transformers": _transformers}


@pytest.fixture(params=list(BACKENDS))
def make(request, lm):
    return lambda **kw: BACKENDS[request.param](lm, **kw)


def test_implements_the_protocol(make):
    assert isinstance(make(), GenerationBackend)


def test_extend_respects_n_end_and_max_length(make, prompt_ids, lm):
    a, b = prompt_ids
    backend = make(max_length=len(b) + 12)
    states = backend.prefill([a, b], [1, 2])
    kids = [k for s in states for k in backend.fork(s, 3)]
    backend.extend(kids, 5)
    assert all(k.num_generated == 5 or (k.finished and k.num_generated < 5) for k in kids)
    backend.extend(kids, 50)
    for k in kids:
        assert k.finished and k.length <= k.max_length
        assert (k.finish_reason == "end") == (k.ids[-1] == lm.vocab.speech_generation_end)
        assert all(lm.vocab.is_speech(t) for t in k.generated_ids[:-1])


def test_tokens_independent_of_batch_order_and_steps(make, prompt_ids):
    a, b = prompt_ids

    def run(order, steps):
        backend = make()
        roots = backend.prefill([a, b], [5, 6], request_ids=["a", "b"])
        kids = {(r.request_id, i): k for r in roots for i, k in enumerate(backend.fork(r, 2))}
        batch = [kids[key] for key in order]
        for n in steps:
            backend.extend(batch, n)
        return {key: k.ids for key, k in kids.items()}

    keys = [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    split = {**run(keys[1:], [20]), keys[0]: run(keys[:1], [20])[keys[0]]}  # one candidate extended alone
    assert run(keys, [20]) == run(keys[::-1], [3, 9, 8]) == split


def test_regenerate_and_ledgers(make, prompt_ids):
    a, b = prompt_ids
    backend = make()
    roots = backend.prefill([a, b, a], [1, 2, 3], request_ids=["x", "y", "z"])
    kids = [k for r in roots for k in backend.fork(r, 2)]
    backend.extend(kids, 15)
    for k in kids:
        assert make().regenerate(k.ids[:k.prompt_len], k.lineage()).ids == k.ids
    led, per = backend.ledger, backend.request_ledgers
    assert led.prefilled_tokens == len(a) + len(b)  # identical prompts prefilled once
    assert sum(per[r].prefilled_tokens for r in "xyz") == 2 * len(a) + len(b)  # each utterance pays its own
    for name in ("generated_tokens", "masked_tokens"):
        assert sum(getattr(per[r], name) for r in "xyz") == getattr(led, name)
    assert led.generated_tokens == sum(k.num_generated for k in kids)


def test_strategies_never_touch_backend_internals():
    """Strategies and the engine see the protocol only: no KV, no logits, no concrete backend class."""
    root = Path(__file__).resolve().parents[2] / "llasa_search"
    files = list((root / "search").glob("*.py")) + list((root / "study").rglob("*.py")) + [root / "engine.py"]
    for path in files:
        text = path.read_text()
        assert not re.search(r"\.(kv|next_logits)\b", text), f"{path.name} reads a state's KV or logits"
        if path.name != "engine.py":  # engine.new_backend is the one place that picks an implementation
            assert "TransformersBackend" not in text, path.name
