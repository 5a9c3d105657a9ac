import time

import numpy as np
import pytest

from verifiers import CachedVerifier, ResultCache, VerifyContext, cached, create_verifier

from vf_sentences import SENTENCES


def test_memory_cache_hits_cost_nothing(pocketsphinx_general, speech):
    v = cached(pocketsphinx_general)
    waves = [speech[("piper", "joe", i)] for i in range(3)]
    ctxs = [VerifyContext(text=s) for s in SENTENCES]
    t0 = time.perf_counter(); first = v.score(waves, 16000, ctxs); t1 = time.perf_counter()
    second = v.score(waves, 16000, ctxs); t2 = time.perf_counter()
    assert (v.hits, v.misses) == (3, 3)
    assert [r.score for r in first] == [r.score for r in second]
    assert [r.metrics["transcript"] for r in first] == [r.metrics["transcript"] for r in second]
    assert (t2 - t1) < 0.1 * (t1 - t0)


def test_key_depends_on_audio_context_and_settings(speech):
    a = speech[("piper", "joe", 0)]
    v1 = CachedVerifier(create_verifier("pocketsphinx", lm="general"))
    v2 = CachedVerifier(create_verifier("pocketsphinx", lm="general", normalizer="lower_strip"))
    c = VerifyContext(text=SENTENCES[0])
    k = v1.key(a, 16000, c)
    assert k == v1.key(a.copy(), 16000, VerifyContext(text=SENTENCES[0]))
    assert k != v1.key(a[:-1], 16000, c)
    assert k != v1.key(a, 22050, c)
    assert k != v1.key(a, 16000, VerifyContext(text=SENTENCES[1]))
    assert k != v1.key(a, 16000, VerifyContext(text=SENTENCES[0], partial=True))
    assert k != v2.key(a, 16000, c)
    ref = speech[("espeak", "en-us", 0)]
    assert v1.key(a, 16000, VerifyContext(reference_audio=ref)) != v1.key(a, 16000, VerifyContext(reference_audio=ref * 0.5))


def test_disk_cache_survives_a_new_process_without_loading_model(tmp_path, resemblyzer, speech):
    ref = speech[("espeak", "en-us", 0)]
    waves = [speech[("espeak", "en-us", 1)], speech[("espeak", "en-us+f3", 1)], np.zeros(0, np.float32)]
    ctxs = [VerifyContext(reference_audio=ref, key="u")] * 3
    first = CachedVerifier(resemblyzer, ResultCache(tmp_path)).score(waves, 16000, ctxs)
    fresh = create_verifier("sim_resemblyzer")       # a new, never-loaded model
    v = cached(fresh, tmp_path)
    again = v.score(waves, 16000, ctxs)
    assert v.hits == 3 and fresh._encoder is None
    for a, b in zip(first, again):
        assert (a.score, a.ok, a.flags) == (b.score, b.ok, b.flags)
        assert a.metrics == pytest.approx(b.metrics)


def test_errors_are_not_cached():
    from verifiers import BatchedVerifier, VerifierResult

    class Flaky(BatchedVerifier):
        name = "flaky"
        fail = True

        def _score_valid(self, waves, contexts):
            if self.fail:
                raise RuntimeError("transient")
            return [VerifierResult(1.0) for _ in waves]

    inner = Flaky()
    v = cached(inner)
    w = [np.full(16000, 0.1, np.float32)]
    assert v.score(w, 16000, [VerifyContext()])[0].flags == ("error",)
    inner.fail = False
    assert v.score(w, 16000, [VerifyContext()])[0].score == 1.0
