"""Continuation at search time: the transcript covers the prompt audio and the continuation, so a content verifier
(ASR/WER) hears prompt + candidate, as evaluation scores it; a speaker verifier hears the generated part only."""
from __future__ import annotations

import numpy as np

from llasa_search.engine import SynthesisRequest
from llasa_search.search import run_search
from verifiers.base import Verifier, VerifierResult


class Recording(Verifier):
    """Scores every clip 0 and records what it was given (length in samples, partial flag, expected fraction)."""

    supports_partial = True
    min_score_seconds = 0.02

    def __init__(self, name, kind):
        self.name, self.kind, self.heard = name, kind, []

    def score(self, waveforms, sample_rate, contexts):
        self.heard += [(len(w), bool(c.partial), c.expected_fraction) for w, c in zip(waveforms, contexts)]
        return [VerifierResult(0.0, {}) for _ in waveforms]

    def identity(self):
        return {"name": self.name}


def _run(engine, espeak_prompt, continuation):
    content, speaker = Recording("content_spy", "content"), Recording("speaker_spy", "speaker")
    kw = {"continuation": True} if continuation else {"prompt_text": espeak_prompt["text"]}
    req = SynthesisRequest(text="She sells sea shells by the sea shore, every day.", prompt_audio=espeak_prompt["audio"],
                           prompt_sample_rate=espeak_prompt["sr"], request_id="c", **kw)
    opts = {"beam_width": 2, "expansions": 2, "n_final": 2, "prm_steps": 2, "step_tokens": 10, "max_new_tokens": 60,
            "partial_window_s": 0, "prm_verifier": "speaker_spy", "orm_verifier": "content_spy"}
    [res] = run_search(engine, [req], "staged", opts, verifiers={"speaker_spy": speaker, "content_spy": content},
                       seed=3)
    finals = {len(c.generated_ids) for c in res.candidates if c.role == "final"}
    return content.heard, speaker.heard, finals


def test_content_verifier_hears_prompt_then_continuation(engine, espeak_prompt):
    prompt_samples = int(round(len(espeak_prompt["audio"]) * 16000 / espeak_prompt["sr"]))
    c_heard, s_heard, _ = _run(engine, espeak_prompt, continuation=True)
    c_clone, s_clone, _ = _run(engine, espeak_prompt, continuation=False)
    assert c_heard and s_heard
    # the content verifier's clips are the speaker verifier's (generated audio) plus the prompt, in continuation only
    assert min(n for n, _, _ in c_heard) >= prompt_samples
    assert min(n for n, _, _ in c_clone) < prompt_samples
    assert max(n for n, _, _ in s_heard) < max(n for n, _, _ in c_heard)
