"""Acceptance: no token goes through the LM twice. Counted at the decoder's forward with a pre-hook, so a
strategy that re-prefilled a prefix, re-ran a pruned beam or forwarded END would be caught even if the
ledger were wrong; and the count must equal the ledger's `forwarded_tokens`."""
from __future__ import annotations

import pytest

from llasa_search.search import run_search_with_ledger

from search_helpers import count_lm_tokens, text_requests

CASES = {
    "best_of_n": {"n": 4, "verifiers": ["frame_energy"], "max_new_tokens": 45},
    "beam": {"prm_verifier": "frame_energy", "beam_width": 2, "expansions": 2, "step_tokens": 15,
             "max_new_tokens": 45},
    "beam_lookahead": {"prm_verifier": "frame_energy", "beam_width": 1, "expansions": 3, "step_tokens": 15,
                       "lookahead": 1, "max_new_tokens": 45},
    "dvts": {"prm_verifier": "frame_energy", "subtrees": 2, "beam_width": 1, "expansions": 2,
             "step_tokens": 15, "max_new_tokens": 45},
    "staged": {"prm_verifier": "frame_energy", "orm_verifier": "frame_energy", "prm_seconds": 0.6,
               "beam_width": 2, "expansions": 2, "step_tokens": 15, "n_final": 3, "max_new_tokens": 45},
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_token_forwarded_once(engine, reward, case):
    strategy = case.split("_lookahead")[0]
    reqs = text_requests(2)  # two prompts of different lengths: padded batches
    prepared = engine.prepare(reqs)
    with count_lm_tokens(engine) as seen:
        results, ledger = run_search_with_ledger(engine, prepared, strategy, CASES[case], reward, seed=3)
    assert len(results) == 2
    assert ledger["generated_tokens"] > 0
    # What reached the model = each token once (forwarded_tokens) + positions of rows that had finished inside a
    # step and were masked rather than dropped (masked_tokens, counted apart so the no-re-forward check keeps its meaning).
    assert seen["tokens"] == ledger["forwarded_tokens"] + ledger["masked_tokens"], "ledger disagrees with the model"
    assert seen["calls"] == ledger["lm_calls"]
    ratio = ledger["forwarded_tokens"] / (ledger["prefilled_tokens"] + ledger["generated_tokens"])
    assert ratio <= 1.02, f"{case}: forwarded/(prefilled+generated) = {ratio:.3f}"
    # Each prompt is prefilled exactly once (as one multi-token call per distinct length).
    prompt_lens = sorted(len(p.prompt_ids) for p in prepared)
    assert ledger["prefilled_tokens"] == sum(prompt_lens)
    multi = sorted(n for b, n in seen["shapes"] if n > 1 for _ in range(b))
    assert multi == prompt_lens
    # Per-utterance ledgers add up to the batch ledger.
    assert sum(r.ledger["forwarded_tokens"] for r in results) == ledger["forwarded_tokens"]
    assert sum(r.ledger["generated_tokens"] for r in results) == ledger["generated_tokens"]


def test_forwarded_equals_prefill_plus_generated_minus_finished(engine, reward):
    """Exact accounting for beam: each sampled token is forwarded once, except a candidate's last one
    (END, or the token that hit the length cap), which is never forwarded."""
    cfg = dict(CASES["beam"])
    results, ledger = run_search_with_ledger(engine, text_requests(2), "beam", cfg, reward, seed=5)
    finals = [c for r in results for c in r.candidates if c.role == "final"]
    assert all(c.finished for c in finals)
    # finished children that lost their beam to a live sibling are traced as partial candidates
    finished = {c.uid for r in results for c in r.candidates if c.finished}
    assert ledger["forwarded_tokens"] == ledger["prefilled_tokens"] + ledger["generated_tokens"] - len(finished)
