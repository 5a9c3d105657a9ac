"""Numerical edges of audio conversion and of embedding scores: each once gave a silently wrong number."""
import numpy as np
import pytest

from verifiers import VerifyContext
from verifiers.audio import to_mono_float
from verifiers.emotion_base import EmotionVerifier
from verifiers.sim_base import SpeakerVerifier


def test_batched_channel_first_stereo_is_averaged_not_concatenated():
    left = np.sin(np.linspace(0, 50, 16000)).astype(np.float32)
    right = 0.5 * left
    x = np.stack([left, right])[None]                    # (1, 2, n): a torch-style batch of one stereo clip
    out = to_mono_float(x)
    assert out.shape == (16000,)
    np.testing.assert_allclose(out, 0.75 * left, atol=1e-6)
    np.testing.assert_allclose(to_mono_float(left[None, None]), left)     # (1, 1, n): the codec's output shape


def test_ambiguous_many_channel_arrays_are_refused():
    with pytest.raises(ValueError, match="shape"):
        to_mono_float(np.zeros((2, 2, 16000), np.float32))      # two clips, not one: which one?


def test_unsigned_8bit_pcm_is_centred():
    pcm = np.array([0, 128, 255], np.uint8)                # WAV 8-bit PCM: unsigned, silence at 128
    np.testing.assert_allclose(to_mono_float(pcm), [-1.0, 0.0, 127 / 128], atol=1e-6)


class _NaNEmotion(EmotionVerifier):
    """The real emotion scoring with a stand-in model whose output is NaN (what an fp16 overflow gives)."""
    name = "nan_emotion"

    def labels(self):
        return ["angry", "happy", "neutral"]

    def analyse(self, waves):
        n = len(waves)
        return np.full((n, 3), np.nan), np.full((n, 4), np.nan)


@pytest.mark.parametrize("ctx", [VerifyContext(target_emotion="happy"),
                                 VerifyContext(reference_embedding=np.ones(4, np.float32))])
def test_emotion_nan_model_output_is_a_failure_not_a_score(ctx):
    r = _NaNEmotion().score([np.full(16000, 0.1, np.float32)], 16000, [ctx])[0]
    assert not r.ok and "nan" in r.flags and r.score == -1.0


class _FixedEmotion(EmotionVerifier):
    """The real emotion scoring with a stand-in model: fixed probabilities, the embedding is the clip's first 2 samples."""
    name = "fixed_emotion"

    def labels(self):
        return ["angry", "happy", "neutral"]

    def analyse(self, waves):
        return np.tile([0.2, 0.7, 0.1], (len(waves), 1)), np.stack([w[:2] for w in waves]).astype(np.float64)


def test_emotion_similarity_is_reported_beside_the_target_probability():
    """The paper's emotion similarity is a cosine with the reference; with a target emotion too, the score stays the
    target's probability and the report's column (emotion_sim) still gets the cosine, not the probability."""
    wave = np.r_[0.3, 0.4, np.full(16000, 0.1)].astype(np.float32)
    ref = np.array([0.4, 0.3], np.float32)
    want = float(np.dot([0.3, 0.4], ref) / (0.5 * 0.5))
    both = _FixedEmotion().score([wave], 16000, [VerifyContext(target_emotion="happy", reference_embedding=ref)])[0]
    assert both.ok and both.score == pytest.approx(0.7) and both.metrics["emotion_sim"] == pytest.approx(want)
    sim = _FixedEmotion().score([wave], 16000, [VerifyContext(reference_embedding=ref)])[0]
    assert sim.score == pytest.approx(want) and sim.metrics["emotion_sim"] == pytest.approx(want)
    target_only = _FixedEmotion().score([wave], 16000, [VerifyContext(target_emotion="happy")])[0]
    assert target_only.ok and "emotion_sim" not in target_only.metrics


class _FirstSamples(SpeakerVerifier):
    """The real speaker-similarity machinery (reference cache included); the embedding is the clip's first 2 samples."""
    name = "first_samples"

    def embed(self, waves):
        return np.stack([w[:2] for w in waves]).astype(np.float64)


def test_reference_cache_tells_apart_two_prompts_under_one_utterance_id():
    """One sweep may hold the same utterance twice with different prompts (two prompt lengths, ESD's prompt modes):
    the cached reference embedding of the first prompt must not be reused for the second."""
    v = _FirstSamples()
    cand = np.r_[1.0, 0.0, np.full(16000, 0.1)].astype(np.float32)
    ref_a = np.r_[1.0, 0.0, np.full(16000, 0.1)].astype(np.float32)
    ref_b = np.r_[0.0, 1.0, np.full(16000, 0.1)].astype(np.float32)
    assert v.score([cand], 16000, [VerifyContext(reference_audio=ref_a, key="utt1")])[0].score == pytest.approx(1.0)
    assert v.score([cand], 16000, [VerifyContext(reference_audio=ref_b, key="utt1")])[0].score == pytest.approx(0.0)
    assert v.score([cand], 16000, [VerifyContext(reference_audio=ref_a, key="utt1")])[0].score == pytest.approx(1.0)
    assert v.reference_computations == 2            # each distinct prompt embedded once
