"""Verifiers take what users pass: wav paths, lists of paths, one clip; and say exactly what was wrong otherwise."""
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from verifiers import ContentVerifier, VerifyContext, cached

from vf_sentences import SENTENCES


@pytest.fixture(scope="module")
def wavs(tmp_path_factory, speech):
    """SENTENCES[0] by piper: as 16 kHz mono wav, as 44.1 kHz stereo flac, plus a file that is not audio."""
    d = tmp_path_factory.mktemp("wavs")
    a = speech[("piper", "joe", 0)]
    sf.write(d / "mono16k.wav", a, 16000, subtype="PCM_16")
    up = resample_poly(a, 441, 160).astype(np.float32)
    sf.write(d / "stereo44k.flac", np.stack([up, up], axis=1), 44100)
    (d / "broken.wav").write_bytes(b"not a wav file")
    return {"array": a, "mono": str(d / "mono16k.wav"), "stereo": d / "stereo44k.flac",
            "broken": str(d / "broken.wav"), "absent": str(d / "absent.wav")}


def test_content_verifier_is_exported():
    from verifiers.asr_base import ContentVerifier as Inner
    assert ContentVerifier is Inner


def test_paths_and_lists_of_paths_score_like_arrays(pocketsphinx_general, wavs):
    v = pocketsphinx_general
    c = VerifyContext(text=SENTENCES[0])
    base = v.score([wavs["array"]], 16000, [c])[0]
    rs = v.score([wavs["mono"], wavs["stereo"]], None, [c, c])        # str and PathLike, any rate, stereo
    assert [r.ok for r in rs] == [True, True]
    assert rs[0].metrics["transcript"] == base.metrics["transcript"]
    assert rs[1].score == pytest.approx(base.score, abs=0.15)          # resampled twice: near, not identical
    one = v.score(wavs["mono"], None, c)                              # one path, one context
    assert len(one) == 1 and one[0].metrics["transcript"] == base.metrics["transcript"]
    one = v.score(wavs["array"], 16000, c)                            # one 1-D array is one clip, not samples
    assert len(one) == 1 and one[0].metrics["transcript"] == base.metrics["transcript"]


def test_score_one_with_path_or_array(pocketsphinx_general, wavs):
    v = pocketsphinx_general
    r = v.score_one(wavs["mono"], text=SENTENCES[0])
    assert r.ok and r.metrics["transcript"] == v.score_one(wavs["array"], 16000, text=SENTENCES[0]).metrics["transcript"]
    assert v.score_one(wavs["array"], context=VerifyContext(text=SENTENCES[0])).score == r.score
    with pytest.raises(TypeError):
        v.score_one(wavs["array"], context=VerifyContext(), text="x")


@pytest.mark.parametrize("use_cache", [False, True])
def test_one_bad_clip_does_not_crash_the_batch(pocketsphinx_general, wavs, use_cache):
    v = cached(pocketsphinx_general) if use_cache else pocketsphinx_general
    clips = [wavs["mono"], wavs["broken"], None, wavs["absent"], np.array([object()]), wavs["array"]]
    rs = v.score(clips, 16000, [VerifyContext(text=SENTENCES[0])] * len(clips))
    assert rs[0].ok and rs[-1].ok and rs[0].metrics["transcript"] == rs[-1].metrics["transcript"]
    assert rs[1].flags == ("error",) and "broken.wav" in rs[1].error and not rs[1].ok
    assert rs[2].flags == ("missing",) and "None" in rs[2].error           # not "nan"
    assert rs[3].flags == ("error",) and "absent.wav" in rs[3].error
    assert rs[4].flags == ("error",) and not rs[4].ok
    assert all(r.score == v.worst_score for r in rs[1:5])


def test_cache_hashes_decoded_audio_of_paths(pocketsphinx_general, wavs):
    v = cached(pocketsphinx_general)
    c = VerifyContext(text=SENTENCES[0])
    v.score([wavs["mono"]], None, [c])
    v.score([wavs["mono"]], None, [c])
    assert (v.hits, v.misses) == (1, 1)


@pytest.mark.parametrize("text", ["", "  ", "?!...", "，。！"])
def test_empty_or_punctuation_text_is_not_a_perfect_wer(pocketsphinx_general, speech, text):
    v = pocketsphinx_general
    ctx = VerifyContext(text=text)
    r = v.score([speech[("piper", "joe", 0)]], 16000, [ctx])[0]
    assert not r.ok and r.flags == ("empty_text",) and r.score == float("-inf")
    assert "no words" in r.error and repr(text) in r.error
    assert v.can_judge(ctx) == r.error
    assert v.can_judge(VerifyContext(text=SENTENCES[0])) is None


@pytest.mark.parametrize("ref,phrase", [
    (np.zeros(0, np.float32), "empty"),
    (np.zeros(16000, np.float32), "silent"),
    (np.full(16000, np.nan, np.float32), "NaN"),
    (np.full(800, 0.1, np.float32), "too short"),
])
def test_reference_errors_say_which_problem(resemblyzer, speech, ref, phrase):
    r = resemblyzer.score([speech[("espeak", "en-us", 1)]], 16000, [VerifyContext(reference_audio=ref)])[0]
    assert not r.ok and r.flags == ("bad_reference",) and r.score == -1.0
    assert r.error.startswith("reference") and phrase in r.error


def test_reference_as_path_and_bad_reference_embedding(resemblyzer, speech, tmp_path):
    ref = speech[("espeak", "en-us", 0)]
    sf.write(tmp_path / "ref.wav", ref, 16000, subtype="FLOAT")
    cand = speech[("espeak", "en-us", 1)]
    by_path = resemblyzer.score_one(cand, 16000, reference_audio=str(tmp_path / "ref.wav"))
    assert by_path.ok and by_path.score == pytest.approx(resemblyzer.score_one(cand, reference_audio=ref).score, abs=1e-5)
    r = resemblyzer.score_one(cand, reference_embedding=np.full(256, np.nan))
    assert r.flags == ("bad_reference",) and "NaN" in r.error
    r = resemblyzer.score_one(cand, reference_embedding=np.ones(7))
    assert r.flags == ("bad_reference",) and "shape" in r.error
