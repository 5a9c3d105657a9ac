"""No silent non-choices (issue 8.5, search side) and staged's n_final (8.3): every choice is made by a verifier
or stated; verifier mistakes and requests a PRM cannot judge fail clearly, the latter before any token is
generated; verifier flags stay in traces."""
from __future__ import annotations

import pytest

from llasa_search.errors import ConfigError, VerifierError
from llasa_search.search import make_strategy, run_search
from verifiers.base import Verifier, VerifierResult

from search_helpers import FrameEnergyReward, count_lm_tokens, text_requests


class OneShort(FrameEnergyReward):
    """A broken verifier: returns one result too few."""

    name = "one_short"

    def score(self, waveforms, sample_rate, contexts):
        return super().score(waveforms, sample_rate, contexts)[:-1]


class SpeakerWithoutReference(Verifier):
    """A speaker verifier that relies on the caller to know it needs reference audio (no can_judge override)."""

    name = "speaker_like"
    kind = "speaker"
    supports_partial = True
    min_score_seconds = 0.02

    def score(self, waveforms, sample_rate, contexts):
        return [VerifierResult(0.5) for _ in waveforms]

    def identity(self):
        return {"name": self.name}


class FlaggingPRM(FrameEnergyReward):
    """Judges every partial clip a failure with a flag, whole utterances normally."""

    name = "flagging"

    def score(self, waveforms, sample_rate, contexts):
        full = super().score(waveforms, sample_rate, contexts)
        return [self.failure(("too_short",), "partial audio refused") if c.partial else r
                for r, c in zip(full, contexts)]


def test_best_of_n_without_a_verifier_must_say_selection_first(engine):
    with pytest.raises(ConfigError, match="selection: first"):
        make_strategy("best_of_n", {"n": 3})
    [res] = run_search(engine, text_requests(1), "best_of_n", {"n": 3, "selection": "first", "max_new_tokens": 20})
    finals = [c for c in res.candidates if c.role == "final"]
    assert len(finals) == 3 and res.chosen_uid == finals[0].uid
    assert "selection_first" in res.flags and res.to_trace()["flags"] == res.flags
    assert res.config["selection"] == "first"


@pytest.mark.parametrize("strategy,options", [
    ("best_of_n", {"n": 2, "selection": "majority"}),
    ("beam", {"selection": {"rule": "borda"}}),
    ("staged", {"selection": "median"}),
    ("dvts", {"selection": {"rule": "weighted", "weight": {"a": 1}}}),
])
def test_unknown_selection_rule_fails_at_config_construction(strategy, options):
    with pytest.raises(ConfigError, match="selection"):
        make_strategy(strategy, {**({"verifiers": ["x"]} if strategy == "best_of_n" else {}), **options})


@pytest.mark.parametrize("strategy,options", [
    ("best_of_n", {"n": 3, "verifiers": ["one_short"]}),
    ("beam", {"prm_verifier": "one_short", "step_tokens": 10, "expansions": 2}),
    ("beam", {"prm_verifier": "frame_energy", "final_verifiers": ["one_short"], "step_tokens": 10}),
])
def test_verifier_returning_too_few_results_is_named(engine, strategy, options):
    verifiers = {"one_short": OneShort(), "frame_energy": FrameEnergyReward()}
    with pytest.raises(VerifierError, match="'one_short' returned .* results for"):
        run_search(engine, text_requests(2), strategy, {**options, "max_new_tokens": 30}, verifiers)


@pytest.mark.parametrize("strategy", ["beam", "dvts", "staged"])
def test_prm_that_cannot_judge_fails_before_generating(engine, strategy):
    with count_lm_tokens(engine) as seen, pytest.raises(ConfigError, match="speaker_like.*voice prompt"):
        run_search(engine, text_requests(2), strategy, {"prm_verifier": "speaker_like", "max_new_tokens": 20},
                   {"speaker_like": SpeakerWithoutReference()})
    assert seen["tokens"] == 0


def test_real_speaker_prm_without_prompt_fails_before_generating(engine, resemblyzer_available):
    with count_lm_tokens(engine) as seen, pytest.raises(ConfigError, match="sim_resemblyzer.*reference"):
        run_search(engine, text_requests(1), "beam", {"prm_verifier": "sim_resemblyzer", "max_new_tokens": 20},
                   ["sim_resemblyzer"])
    assert seen["tokens"] == 0


def test_prm_flags_are_kept_in_step_traces(engine):
    [res] = run_search(engine, text_requests(1), "beam",
                       {"prm_verifier": "flagging", "step_tokens": 10, "expansions": 2, "max_new_tokens": 40},
                       {"flagging": FlaggingPRM()}, seed=1)
    steps = [s for c in res.candidates for s in c.step_scores]
    assert steps and any(s.get("flags") == ["too_short", "partial audio refused"] for s in steps)


@pytest.mark.parametrize("n_final", [1, 2, 5])
def test_staged_orm_judges_exactly_n_final(engine, reward, n_final):
    """Before: the ORM judged every phase-1 finisher plus the completions ([8, 8, 3, 2] with n_final=2)."""
    orm = FrameEnergyReward()
    options = {"prm_verifier": "frame_energy", "orm_verifier": "orm", "beam_width": 2, "expansions": 4,
               "prm_steps": 3, "step_tokens": 10, "n_final": n_final, "max_new_tokens": 60}
    reqs = text_requests(4)
    results = run_search(engine, reqs, "staged", options, {**reward, "orm": orm}, seed=2)
    for res in results:
        finals = [c for c in res.candidates if c.role == "final"]
        assert len(finals) == n_final and all(c.finished for c in finals)
        assert all("orm" in c.scores for c in finals)
        assert res.ledger["verifier_calls"]["orm"] == n_final
    assert orm.calls == n_final * len(reqs) and orm.partial_calls == 0


@pytest.mark.parametrize("strategy,options", [
    ("best_of_n", {"n": 2, "verifiers": ["speaker_like"]}),
    ("beam", {"prm_verifier": "frame_energy", "final_verifiers": ["speaker_like"]}),
    ("staged", {"prm_verifier": "frame_energy", "orm_verifier": "speaker_like"}),
])
def test_outcome_verifier_that_cannot_judge_fails_before_generating(engine, strategy, options):
    """A verifier that would fail on every candidate chooses nothing: refused up front, like a PRM."""
    verifiers = {"speaker_like": SpeakerWithoutReference(), "frame_energy": FrameEnergyReward()}
    with count_lm_tokens(engine) as seen, pytest.raises(ConfigError, match="speaker_like"):
        run_search(engine, text_requests(1), strategy, {**options, "max_new_tokens": 20}, verifiers)
    assert seen["tokens"] == 0
