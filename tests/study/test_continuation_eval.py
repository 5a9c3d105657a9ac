"""Continuation (LibriSpeech): WER judges the whole utterance (prompt + continuation) against the full transcript, but
similarity verifiers must judge only what was generated: the output's first 3 s ARE the prompt, so comparing the whole
output with the prompt would score the prompt against itself."""
from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from llasa_search.study.config import DatasetSpec, ModelSpec, StrategySpec
from llasa_search.study.executors.engine import SearchExecutor
from llasa_search.study.items import StudyItem
from llasa_search.study.jobs import Job


class _Recorder:
    """Keeps the length of every clip it is asked to score."""

    def __init__(self, kind):
        self.kind, self.seen = kind, []

    def score(self, waves, sr, ctxs):
        from verifiers.base import VerifierResult

        self.seen += [len(w) for w in waves]
        return [VerifierResult(score=0.0, metrics={"sim": 0.0}) for _ in waves]


@pytest.mark.slow
def test_continuation_similarity_excludes_the_prompt_and_wer_includes_it(tmp_path, tmp_path_factory, monkeypatch):
    # tiny models made once per session (the folder the demo-sweep tests use too)
    monkeypatch.setenv("LLASA_SEARCH_HOME", os.environ.get("LLASA_SEARCH_HOME",
                                                           str(tmp_path_factory.getbasetemp() / "llasa-home")))
    t = np.arange(int(4.0 * 16000)) / 16000
    wav = tmp_path / "utt.wav"
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32), 16000)
    item = StudyItem(utt_id="u1", text="hello there", prompt_wav=str(wav), prompt_text="", prompt_seconds=3.0,
                     task="continuation", dataset="ls")
    ex = SearchExecutor()
    rec = {"asr": _Recorder("content"), "spk": _Recorder("speaker"), "emo": _Recorder("emotion")}
    ex._verifiers.update(rec)
    job = Job(item=item, model=ModelSpec(name="tiny", path="tiny"), dataset=DatasetSpec(name="ls", kind="manifest"),
              strategy=StrategySpec(name="s", strategy="sampling", budgets=(1,), options={"max_new_tokens": 20}),
              budget=1, seed=0, evaluation_verifiers=("asr", "spk", "emo"))
    out = ex([job])[0]
    prompt = 3 * 16000
    assert len(out.audio) > prompt                               # the saved output is the whole utterance
    assert rec["asr"].seen == [len(out.audio)]                   # WER: whole utterance vs full transcript
    assert rec["spk"].seen == [len(out.audio) - prompt]          # SIM: the continuation only
    assert rec["emo"].seen == [len(out.audio) - prompt]
