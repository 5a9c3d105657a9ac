"""When no candidate has a score (every scoring failed or was skipped, e.g. tiny-model audio too short for a
speaker model), the choice is the seeded tie-break among finished candidates, never by length or position,
and the result says so with the flag `no_scored_candidate` (search/finalize.py `choose`)."""
from __future__ import annotations

import pytest

from llasa_search.search import run_search
from llasa_search.search.finalize import NO_SCORED_CANDIDATE
from llasa_search.search.selection import tie_key
from verifiers.base import Verifier

from search_helpers import FrameEnergyReward, text_requests


class AlwaysFails(Verifier):
    """Refuses every clip, partial or whole, as a speaker model refuses audio that is too short."""

    name = "always_fails"
    supports_partial = True
    min_score_seconds = 0.02

    def score(self, waveforms, sample_rate, contexts):
        return [self.failure(("too_short",), "audio too short") for _ in waveforms]

    def identity(self):
        return {"name": self.name}


class FailsOnShort(FrameEnergyReward):
    """Scores whole clips of at least 15 frames; refuses shorter ones."""

    name = "fails_on_short"

    def score(self, waveforms, sample_rate, contexts):
        full = super().score(waveforms, sample_rate, contexts)
        return [r if len(w) >= 15 * 320 else self.failure(("too_short",)) for r, w in zip(full, waveforms)]


F = "always_fails"
OPTIONS = {
    "best_of_n": {"n": 4, "verifiers": [F]},
    "beam": {"prm_verifier": F, "beam_width": 2, "expansions": 2, "step_tokens": 10},
    "beam+final": {"prm_verifier": F, "beam_width": 2, "expansions": 2, "step_tokens": 10, "final_verifiers": [F]},
    "dvts": {"prm_verifier": F, "subtrees": 2, "beam_width": 1, "expansions": 2, "step_tokens": 10},
    "staged": {"prm_verifier": F, "orm_verifier": F, "beam_width": 1, "expansions": 2, "step_tokens": 10,
               "prm_steps": 1, "n_final": 3},
}


def _seeded_choice(finals):
    pool = [c for c in finals if c.finished] or finals
    return max(pool, key=lambda c: tie_key(_Key(c))).uid


class _Key:  # tie_key reads a state's seed and length; a trace holds both
    def __init__(self, c):
        self.seed, self.length = c.seed, c.prompt_len + c.offset + len(c.generated_ids)


@pytest.mark.parametrize("label", list(OPTIONS))
def test_a_verifier_that_always_fails_gives_a_flagged_seeded_choice(engine, label):
    strategy = label.split("+")[0]
    opts = {**OPTIONS[label], "max_new_tokens": 40}
    runs = [run_search(engine, text_requests(2), strategy, opts, {F: AlwaysFails()}, seed=3) for _ in range(2)]
    for res, again in zip(*runs):
        assert NO_SCORED_CANDIDATE in res.flags and res.to_trace()["flags"] == res.flags
        assert res.chosen_uid == again.chosen_uid           # deterministic
        finals = [c for c in res.candidates if c.role == "final"]
        assert len(finals) > 1
        assert res.chosen.finished or not any(c.finished for c in finals)
        assert res.chosen_uid == _seeded_choice(finals)


def test_scored_candidates_win_over_unscored_and_the_result_is_not_flagged(engine):
    opts = {"n": 8, "verifiers": ["fails_on_short"], "max_new_tokens": 40}
    results = run_search(engine, text_requests(4), "best_of_n", opts, {"fails_on_short": FailsOnShort()}, seed=0)
    seen_mixed = False
    for res in results:
        finals = [c for c in res.candidates if c.role == "final"]
        scored = [c for c in finals if "fails_on_short" not in c.flags]
        seen_mixed |= 0 < len(scored) < len(finals)
        if scored:
            assert NO_SCORED_CANDIDATE not in res.flags and res.chosen.uid in {c.uid for c in scored}
        else:
            assert NO_SCORED_CANDIDATE in res.flags
    assert seen_mixed, "the setup should give some short (unscored) and some long candidates"
