"""Acceptance: with a real offline verifier on real speech (resemblyzer speaker similarity against an
espeak-ng voice prompt), selection picks the candidate the verifier ranks best, and the trace's scores
equal a fresh scoring of the candidates' audio by a new verifier instance."""
from __future__ import annotations

import math

import numpy as np
import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.search import run_search

NAME = "sim_resemblyzer"
CONFIGS = {
    "best_of_n": {"n": 3, "verifiers": [NAME], "max_new_tokens": 35},
    # final choice by the aggregated process reward (aggregate=last: the score of the whole audio)
    "beam": {"prm_verifier": NAME, "beam_width": 2, "expansions": 2, "step_tokens": 15, "max_new_tokens": 35},
    # final choice by the same verifier as an outcome reward over the finished beams
    "beam_final": {"prm_verifier": NAME, "final_verifiers": [NAME], "beam_width": 2, "expansions": 2,
                   "step_tokens": 15, "max_new_tokens": 35},
}


@pytest.fixture(scope="module")
def verifier_factory(resemblyzer_available):
    from verifiers import create_verifier

    return lambda: create_verifier(NAME)


@pytest.fixture(scope="module")
def clone_requests(espeak_prompt):
    return [SynthesisRequest(text=t, prompt_text=espeak_prompt["text"], prompt_audio=espeak_prompt["audio"],
                             prompt_sample_rate=espeak_prompt["sr"], request_id=f"clone{i}")
            for i, t in enumerate(["Hello world!", "How are you today?"])]


def _fresh_scores(engine, prepared, result, factory):
    """Decode every final candidate from its trace tokens and score it with a new verifier instance."""
    from verifiers import VerifyContext

    finals = [c for c in result.candidates if c.role == "final"]
    audio = engine.decode([(prepared, engine.speech_codes(c.generated_ids)) for c in finals])
    ctx = VerifyContext(text=prepared.request.text, reference_audio=prepared.reference_audio,
                        reference_sample_rate=16000)
    res = factory().score(audio, 16000, [ctx] * len(audio))
    return finals, audio, [r.score for r in res]


@pytest.mark.parametrize("case", list(CONFIGS))
def test_selection_follows_verifier_and_scores_reproduce(engine, clone_requests, verifier_factory, case):
    strategy = case.split("_final")[0]
    prepared = engine.prepare(clone_requests)
    results = run_search(engine, prepared, strategy, CONFIGS[case], {NAME: verifier_factory()}, seed=11)
    for prep, result in zip(prepared, results):
        finals, audio, fresh = _fresh_scores(engine, prep, result, verifier_factory)
        assert len(finals) >= 2
        key = "prm_value" if case == "beam" else NAME
        traced = [c.scores[key] for c in finals]
        assert all(math.isfinite(s) for s in traced)
        assert len({round(s, 4) for s in traced}) > 1, "candidates must differ for the choice to mean anything"
        # trace scores == a fresh scoring of the audio (for beam, the last step judged the whole audio)
        np.testing.assert_allclose(traced, fresh, atol=1e-4)
        # the chosen candidate is the one the verifier ranks best
        chosen = [c for c in finals if c.selected]
        assert len(chosen) == 1 and chosen[0].uid == result.chosen_uid
        assert fresh[finals.index(chosen[0])] == pytest.approx(max(fresh), abs=1e-6)
        assert result.scores[key] == pytest.approx(max(traced))
        # the result's audio is the chosen candidate's audio
        np.testing.assert_allclose(result.audio, audio[finals.index(chosen[0])], atol=1e-6)
        assert result.codes == engine.speech_codes(chosen[0].generated_ids)
        if strategy == "beam":
            # every step's process score was recorded, and partial prefixes were scored as partial audio
            assert all(c.step_scores and c.step_scores[-1]["tokens"] == len(c.generated_ids) for c in finals)
            assert any(c.role == "partial" for c in result.candidates)
