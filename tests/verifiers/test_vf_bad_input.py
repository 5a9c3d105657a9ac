"""Every kind of bad input gives a defined result, and never costs the other candidates their scores."""
import numpy as np
import pytest
from scipy.signal import resample_poly

from verifiers import BatchedVerifier, VerifierResult, VerifyContext

from vf_sentences import SENTENCES

BAD = {
    "empty": (np.zeros(0, np.float32), ("empty",)),
    "too_short": (np.full(800, 0.1, np.float32), ("too_short",)),       # 50 ms
    "silent": (np.zeros(16000, np.float32), ("silent",)),
    "nan": (np.full(16000, np.nan, np.float32), ("nan",)),
    "inf": (np.r_[np.zeros(8000), np.inf, np.zeros(8000)].astype(np.float32), ("nan",)),
}


@pytest.fixture(params=["pocketsphinx_general", "resemblyzer"])
def verifier_and_ctx(request, speech):
    v = request.getfixturevalue(request.param)
    c = VerifyContext(text=SENTENCES[0], reference_audio=speech[("espeak", "en-us", 1)])
    return v, c


def test_bad_audio_gets_worst_score_and_flag_others_unaffected(verifier_and_ctx, speech):
    v, c = verifier_and_ctx
    good = speech[("piper", "joe", 0)]
    alone = v.score([good], 16000, [c])[0]
    names = list(BAD)
    rs = v.score([BAD[n][0] for n in names] + [good], 16000, [c] * (len(names) + 1))
    for n, r in zip(names, rs):
        assert not r.ok and r.flags == BAD[n][1] and r.score == v.worst_score, n
        assert r.error
    assert rs[-1].ok and rs[-1].score == pytest.approx(alone.score, abs=1e-5)


def test_stereo_int16_and_other_rates_are_converted(verifier_and_ctx, speech):
    v, c = verifier_and_ctx
    good = speech[("piper", "joe", 0)]
    base = v.score([good], 16000, [c])[0].score
    stereo = np.stack([good, good], axis=1)                       # (n, 2) as soundfile gives it
    chan_first = stereo.T                                          # (2, n) as torch gives it
    pcm16 = (good * 32767).astype(np.int16)
    up = resample_poly(good, 441, 160).astype(np.float32)           # 44.1 kHz
    assert v.score([stereo], 16000, [c])[0].score == pytest.approx(base, abs=1e-4)
    assert v.score([chan_first], 16000, [c])[0].score == pytest.approx(base, abs=1e-4)
    assert v.score([pcm16], 16000, [c])[0].score == pytest.approx(base, abs=0.02)
    r = v.score([up], 44100, [c])[0]
    assert r.ok and r.score == pytest.approx(base, abs=0.1)


def test_clipped_audio_is_scored_and_flagged(resemblyzer, speech):
    a = speech[("espeak", "en-us", 1)]
    clipped = np.clip(a * 20, -1, 1)
    r = resemblyzer.score([clipped], 16000, [VerifyContext(reference_audio=speech[("espeak", "en-us", 0)])])[0]
    assert r.ok and "clipped" in r.flags and -1 <= r.score <= 1


def test_mismatched_lengths_raise():
    from verifiers import create_verifier
    with pytest.raises(ValueError):
        create_verifier("sim_resemblyzer").score([np.zeros(10)], 16000, [])


class _Picky(BatchedVerifier):
    """Real base-class machinery with a model stand-in that fails on one input (tests error isolation)."""
    name = "picky"
    worst_score = -9.0

    def __init__(self):
        super().__init__(batch_size=4)
        self.calls = 0

    def _score_valid(self, waves, contexts):
        self.calls += 1
        if any(c.key == "boom" for c in contexts):
            raise RuntimeError("model exploded")
        return [VerifierResult(float(w.size)) for w in waves]


def test_one_failing_candidate_does_not_lose_batch():
    v = _Picky()
    waves = [np.full(1600 * (i + 1), 0.1, np.float32) for i in range(4)]
    ctxs = [VerifyContext(key=k) for k in ("a", "boom", "b", "c")]
    rs = v.score(waves, 16000, ctxs)
    assert [r.score for r in rs] == [1600.0, -9.0, 4800.0, 6400.0]
    assert rs[1].flags == ("error",) and "exploded" in rs[1].error and not rs[1].ok
    assert v.calls == 1 + 4      # one failed batch, then one call per candidate
