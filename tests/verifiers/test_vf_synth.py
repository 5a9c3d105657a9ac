import numpy as np

from verifiers.synth import synthesize_espeak, synthesize_piper


def test_espeak_returns_16k_mono_float_speech(speech):
    a = speech[("espeak", "en-us", 0)]
    assert a.dtype == np.float32 and a.ndim == 1
    assert 1.5 < a.size / 16000 < 6           # a 9-word sentence
    assert 0.05 < np.abs(a).max() <= 1.0


def test_espeak_rate_changes_duration():
    slow, sr = synthesize_espeak("one two three four five six", rate=100)
    fast, _ = synthesize_espeak("one two three four five six", rate=300)
    assert sr == 16000 and slow.size > 1.8 * fast.size


def test_espeak_text_starting_with_dash_is_spoken_not_parsed():
    a, _ = synthesize_espeak("-v hello there")
    assert a.size > 0.5 * 16000


def test_piper_returns_16k_speech(speech):
    a = speech[("piper", "joe", 1)]
    assert a.dtype == np.float32 and a.ndim == 1 and a.size / 16000 > 2


def test_piper_empty_text_gives_empty_audio():
    a, sr = synthesize_piper("")
    assert a.size == 0 and sr == 16000
