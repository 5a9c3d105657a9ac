"""Regressions found in review: batch-independent costs with shared prompts, unique request ids, staged keeps its
prefixes, integer options, chunked continuation and per-chunk prompts in traces."""
from __future__ import annotations

import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.errors import ConfigError
from llasa_search.search import run_search, run_search_with_ledger


def _req(text, rid, **kw):
    return SynthesisRequest(text=text, request_id=rid, **kw)


@pytest.mark.parametrize("strategy, options", [
    ("best_of_n", {"n": 2, "verifiers": ["frame_energy"], "budget_tokens": 120, "budget_unit": "forwarded_tokens"}),
    ("beam", {"prm_verifier": "frame_energy", "expansions": 2, "step_tokens": 10, "budget_tokens": 120,
              "budget_unit": "forwarded_tokens"}),
])
def test_shared_prompt_does_not_change_an_utterances_result(engine, reward, strategy, options):
    opts = {**options, "max_new_tokens": 40}
    alone = run_search(engine, [_req("Hello world!", "u2")], strategy, opts, reward, seed=1)[0]
    shared = run_search(engine, [_req("Hello world!", "u1"), _req("Hello world!", "u2")], strategy, opts, reward,
                        seed=1)[1]
    assert shared.codes == alone.codes
    for key in ("prefilled_tokens", "forwarded_tokens", "generated_tokens"):
        assert shared.ledger[key] == alone.ledger[key], key


def test_duplicate_request_ids_are_refused(engine, reward):
    with pytest.raises(ValueError, match="unique"):
        run_search(engine, [_req("One.", "x"), _req("Two.", "x")], "sampling", {"max_new_tokens": 5}, reward)


def test_staged_completes_n_final_even_when_prefixes_finish_early(engine, reward):
    cfg = {"prm_verifier": "frame_energy", "beam_width": 1, "expansions": 4, "prm_steps": 3, "step_tokens": 10,
           "n_final": 4, "max_new_tokens": 60}
    reqs = [_req(t, f"u{i}") for i, t in enumerate(["Short one.", "Another one here.", "A third.", "Four."])]
    for seed in range(3):
        for res in run_search(engine, reqs, "staged", cfg, reward, seed=seed):
            assert len([c for c in res.candidates if c.role == "final"]) == 4


@pytest.mark.parametrize("options", [{"n": 2.0}, {"n": True}, {"n": 2, "max_new_tokens": 10.5}])
def test_non_integer_counts_are_refused_before_any_work(engine, reward, options):
    with pytest.raises(ConfigError, match="integer"):
        run_search(engine, [_req("Hi.", "a")], "best_of_n", {"verifiers": ["frame_energy"], **options}, reward)


def test_chunked_continuation_is_refused(engine, reward):
    import numpy as np

    audio = (0.1 * np.sin(np.arange(32000) / 8)).astype(np.float32)
    req = _req("word " * 50, "c", prompt_audio=audio, continuation=True)
    with pytest.raises(ValueError, match="continuation"):
        run_search(engine, [req], "sampling", {"max_new_tokens": 5}, reward, chunking=True)


def test_chunk_candidates_regenerate_from_their_chunk_prompt(engine, reward):
    text = "The first sentence is here and it is long enough. " * 3
    [res], _ = run_search_with_ledger(engine, [_req(text, "long")], "best_of_n",
                                      {"n": 2, "verifiers": ["frame_energy"], "max_new_tokens": 20}, reward,
                                      seed=0, chunking=True)
    assert len(res.chunks) == 2
    prompts = {ch["request_id"]: ch["prompt_ids"] for ch in res.chunks}
    backend = engine.new_backend()
    for cand in [c for c in res.candidates if c.role == "final"]:
        state = backend.regenerate(prompts[cand.request_id], cand.lineage, max_length=cand.max_length)
        assert state.generated_ids == cand.generated_ids
        assert state.finish_reason == cand.finish_reason
