"""resemblyzer speaker verifier on real synthetic speech: en-us and en-us+f3 sound like different speakers."""
import numpy as np
import pytest

from verifiers import VerifyContext


def test_same_voice_ranks_above_different_voice(resemblyzer, speech):
    for ref_voice, other in [("en-us", "en-us+f3"), ("en-us+f3", "en-us")]:
        ref = speech[("espeak", ref_voice, 0)]
        waves, ctxs = [], []
        for i in (1, 2):   # other sentences: similarity must come from the voice, not the words
            waves += [speech[("espeak", ref_voice, i)], speech[("espeak", other, i)]]
            ctxs += [VerifyContext(reference_audio=ref)] * 2
        rs = resemblyzer.score(waves, 16000, ctxs)
        same = [rs[0].score, rs[2].score]
        diff = [rs[1].score, rs[3].score]
        assert min(same) > max(diff), (same, diff)
        assert all(-1 <= s <= 1 for s in same + diff)


def test_identical_clip_scores_one(resemblyzer, speech):
    a = speech[("piper", "joe", 0)]
    r = resemblyzer.score([a], 16000, [VerifyContext(reference_audio=a)])[0]
    assert r.score == pytest.approx(1.0, abs=1e-4) and r.metrics["cosine"] == r.score


def test_batch_equals_one_by_one(resemblyzer, speech):
    ref = speech[("espeak", "en-us", 0)]
    waves = [speech[k] for k in sorted(speech)][:6]
    c = VerifyContext(reference_audio=ref)
    batch = [r.score for r in resemblyzer.score(waves, 16000, [c] * len(waves))]
    single = [resemblyzer.score([w], 16000, [c])[0].score for w in waves]
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_reference_embedded_once_per_utterance(speech):
    from verifiers import create_verifier
    v = create_verifier("sim_resemblyzer")
    ref = speech[("espeak", "en-us", 0)]
    waves = [speech[("espeak", "en-us", 1)], speech[("espeak", "en-us+f3", 1)]]
    for _ in range(3):
        v.score(waves, 16000, [VerifyContext(reference_audio=ref, key="utt1")] * 2)
    assert v.reference_computations == 1
    # without a key, the audio hash identifies the reference
    v.score(waves, 16000, [VerifyContext(reference_audio=ref.copy())] * 2)
    v.score(waves, 16000, [VerifyContext(reference_audio=ref.copy())] * 2)
    assert v.reference_computations == 2


def test_precomputed_reference_embedding_wins(resemblyzer, speech):
    ref, cand = speech[("espeak", "en-us", 0)], speech[("espeak", "en-us", 1)]
    other = speech[("espeak", "en-us+f3", 0)]
    emb = resemblyzer.embed_audio(ref, 16000)
    a = resemblyzer.score([cand], 16000, [VerifyContext(reference_audio=ref)])[0]
    b = resemblyzer.score([cand], 16000, [VerifyContext(reference_audio=other, reference_embedding=emb)])[0]
    assert a.score == pytest.approx(b.score, abs=1e-5)


def test_reference_at_other_rate_is_resampled(resemblyzer, speech):
    from scipy.signal import resample_poly
    ref, cand = speech[("espeak", "en-us", 0)], speech[("espeak", "en-us", 1)]
    ref44 = resample_poly(ref, 441, 160).astype(np.float32)
    a = resemblyzer.score([cand], 16000, [VerifyContext(reference_audio=ref)])[0].score
    b = resemblyzer.score([cand], 16000, [VerifyContext(reference_audio=ref44, reference_sample_rate=44100)])[0].score
    assert a == pytest.approx(b, abs=0.02)


def test_missing_or_bad_reference(resemblyzer, speech):
    a = speech[("espeak", "en-us", 1)]
    r1, r2, r3 = resemblyzer.score([a, a, a], 16000, [
        VerifyContext(),
        VerifyContext(reference_audio=np.zeros(16000, np.float32)),      # silent reference
        VerifyContext(reference_embedding=np.ones(7, np.float32)),       # wrong dimension
    ])
    assert r1.flags == ("no_reference",) and r1.score == -1.0
    assert r2.flags == ("bad_reference",) and r2.score == -1.0
    assert r3.flags == ("bad_reference",) and not r3.ok
