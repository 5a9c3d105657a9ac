"""Acceptance (issue 8.2): tree search is not biased toward short audio.

With a constant process reward every ranking is a tie. An honest search then returns a plain model sample, so the
lengths of the candidates beam and dvts choose must follow the same distribution as best_of_n's (whose samples
are independent). Before the fix a subtree stopped as soon as `beam_width` children finished and ties went to
the earliest finisher: beam's chosen median was half best_of_n's (Mann-Whitney p ~ 1e-6 on this setup).
A PRM must also never be asked to judge partial audio shorter than its `min_score_seconds`."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp, mannwhitneyu

from llasa_search.engine import SynthesisRequest
from llasa_search.search import run_search
from verifiers.base import Verifier, VerifierResult

from search_helpers import text_requests


class ConstantPRM(Verifier):
    """Knows nothing: every clip scores 0. Records the shortest partial clip it was asked to judge."""

    name = "constant"
    supports_partial = True

    def __init__(self, min_score_seconds: float = 0.2):
        self.min_score_seconds = min_score_seconds
        self.partial_samples: list[int] = []

    def score(self, waveforms, sample_rate, contexts):
        self.partial_samples += [len(w) for w, c in zip(waveforms, contexts) if c.partial]
        return [VerifierResult(0.0) for _ in waveforms]

    def identity(self):
        return {"name": self.name}


OPTIONS = {
    "best_of_n": {"n": 4, "verifiers": ["constant"]},
    "beam": {"prm_verifier": "constant", "beam_width": 2, "expansions": 2, "step_tokens": 10},
    "dvts": {"prm_verifier": "constant", "subtrees": 2, "beam_width": 1, "expansions": 2, "step_tokens": 10},
}


@pytest.fixture(scope="module")
def short_engine(tmp_path_factory):
    """Tiny models whose utterances are mostly short (median ~12 tokens, long tail), so many candidates finish
    at different steps: the situation where a biased search picks the early finishers."""
    from llasa_search.engine import LlasaEngine
    from llasa_search.tiny import make_tiny

    paths = make_tiny(tmp_path_factory.mktemp("tiny_short"), codebook_size=4096, eos_boost=3.0)
    return LlasaEngine.load(paths["llm"], paths["codec"], device="cpu")


@pytest.fixture(scope="module")
def chosen_lengths(short_engine):
    reqs = [SynthesisRequest(text=f"Utterance number {i}.", request_id=f"u{i}") for i in range(48)]
    out = {}
    for strategy, options in OPTIONS.items():
        lengths = []
        for seed in (0, 1):
            results = run_search(short_engine, reqs, strategy, {**options, "max_new_tokens": 150},
                                 {"constant": ConstantPRM()}, seed=seed)
            lengths += [len(r.codes) for r in results]
        out[strategy] = np.array(lengths)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["beam", "dvts"])
def test_constant_prm_chooses_lengths_like_best_of_n(chosen_lengths, strategy):
    ref, got = chosen_lengths["best_of_n"], chosen_lengths[strategy]
    mw, ks = mannwhitneyu(got, ref).pvalue, ks_2samp(got, ref).pvalue
    msg = (f"{strategy}: median {np.median(got)} mean {got.mean():.1f} vs best_of_n median {np.median(ref)} "
           f"mean {ref.mean():.1f} (Mann-Whitney p {mw:.2g}, KS p {ks:.2g})")
    assert mw > 0.01 and ks > 0.01, msg


@pytest.mark.parametrize("strategy", ["beam", "dvts", "staged"])
def test_prm_never_judges_audio_shorter_than_its_minimum(engine, strategy):
    prm = ConstantPRM(min_score_seconds=0.3)  # 15 tokens; steps of 5 tokens
    options = {"prm_verifier": "constant", "step_tokens": 5, "expansions": 2, "max_new_tokens": 40}
    if strategy == "staged":
        options.update(prm_steps=6, n_final=2)
    run_search(engine, text_requests(2), strategy, options, {"constant": prm}, seed=0)
    assert prm.partial_samples, "the PRM guided nothing"
    assert min(prm.partial_samples) >= 0.3 * 16000


def test_min_score_seconds_option_overrides_the_verifiers(engine):
    prm = ConstantPRM(min_score_seconds=5.0)
    run_search(engine, text_requests(1), "beam", {"prm_verifier": "constant", "step_tokens": 5, "expansions": 2,
                                                  "max_new_tokens": 30, "min_score_seconds": 0.1},
               {"constant": prm}, seed=0)
    assert prm.partial_samples and min(prm.partial_samples) >= 0.1 * 16000
