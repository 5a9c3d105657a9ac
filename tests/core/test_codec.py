"""Codec round trip on the tiny X-codec2 (real Xcodec2Model code path, random weights)."""
from __future__ import annotations

import numpy as np
import pytest

from .conftest import speechlike


def test_encode_one_second_gives_about_50_codes(codec):
    codes = codec.encode(speechlike(1.0))
    assert 48 <= len(codes) <= 51
    assert all(isinstance(c, int) for c in codes)
    assert min(codes) >= 0 and max(codes) < codec.codebook_size == 65536
    assert len(set(codes)) > 10  # codes follow the audio, not one constant code
    other = codec.encode(speechlike(1.0, seed=7) * 0.3)
    assert sum(a != b for a, b in zip(codes, other)) > len(codes) // 2
    assert codec.encode(speechlike(1.0)) == codes  # deterministic


def test_decode_gives_16k_audio_of_codes_times_hop(codec):
    assert codec.sample_rate == 16000 and codec.hop_length == 320
    codes = codec.encode(speechlike(1.0))
    (audio,) = codec.decode([codes])
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.shape[0] == len(codes) * 320
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 0


def test_decode_with_context_trims_exactly_the_context(codec):
    rng = np.random.default_rng(1)
    context = rng.integers(0, 65536, 23).tolist()
    codes = rng.integers(0, 65536, 37).tolist()
    (with_ctx,) = codec.decode([codes], context_codes=[context])
    (full,) = codec.decode([context + codes])
    assert with_ctx.shape[0] == len(codes) * 320
    np.testing.assert_allclose(with_ctx, full[len(context) * 320:], atol=1e-5)
    # Decoding the context changes the result (bidirectional decoder): the context really was decoded in front.
    (alone,) = codec.decode([codes])
    assert not np.allclose(alone, with_ctx, atol=1e-4)


def test_batched_decode_equals_one_by_one(codec):
    rng = np.random.default_rng(2)
    seqs = [rng.integers(0, 65536, n).tolist() for n in (30, 12, 30, 0, 45)]
    contexts = [rng.integers(0, 65536, n).tolist() for n in (5, 0, 5, 3, 9)]
    batch = codec.decode(seqs, context_codes=contexts)
    for seq, ctx, got in zip(seqs, contexts, batch):
        (single,) = codec.decode([seq], context_codes=[ctx])
        assert got.shape == single.shape == (len(seq) * 320,)
        np.testing.assert_allclose(got, single, atol=1e-5)


def test_decode_rejects_out_of_range_codes(codec):
    with pytest.raises(ValueError, match="65536"):
        codec.decode([[0, 65536]])
    with pytest.raises(ValueError):
        codec.decode([[1, 2]], context_codes=[[1], [2]])


def test_stereo_44k_input_is_converted_not_rejected(codec):
    mono16 = speechlike(1.2, sr=16000, seed=3)
    t44 = speechlike(1.2, sr=44100, seed=3)
    stereo44 = np.stack([t44, 0.5 * t44], axis=1)  # (T, 2) as soundfile gives it
    codes16 = codec.encode(mono16)
    codes44 = codec.encode(stereo44, sample_rate=44100)
    assert 58 <= len(codes16) <= 61  # 1.2 s at 50 codes per second
    assert len(codes44) == len(codes16)
    assert min(codes44) >= 0 and max(codes44) < codec.codebook_size
    # (C, T) layout and int16 PCM are converted too.
    pcm = (stereo44.T * 32767).astype(np.int16)
    assert len(codec.encode(pcm, sample_rate=44100)) == len(codes16)


@pytest.mark.parametrize("k", [1, 7, 26])
def test_prompt_code_count_is_the_official_floor_T_over_320_plus_one(codec, k):
    """The official encode pads T samples to the next multiple of 320 above T: floor(T/320) + 1 codes
    (T = 48000 gives 151; transformers' code mask would keep 150). check=False: the length rule is the codec's,
    whatever the prompt-length limits."""
    for n in (320 * k - 1, 320 * k, 320 * k + 1):
        wav = np.resize(speechlike(1.0, seed=k), n)
        assert len(codec.encode(wav, check=False)) == n // 320 + 1, n
    if k == 26:  # the example of issue 8
        assert len(codec.encode(np.resize(speechlike(1.0), 48000))) == 151


def test_voice_cloning_cut_off_removes_exactly_the_prompt(engine):
    from llasa_search.engine import SynthesisRequest

    n = 320 * 40 + 7  # not a multiple of the hop
    (prep,) = engine.prepare([SynthesisRequest(text="Hello.", prompt_text="Hi there.",
                                               prompt_audio=np.resize(speechlike(1.0, seed=5), n))])
    assert len(prep.prompt_codes) == n // 320 + 1 == 41
    generated = np.random.default_rng(3).integers(0, 65536, 29).tolist()
    (audio,) = engine.decode([(prep, generated)])
    (whole,) = engine.codec.decode([prep.prompt_codes + generated])
    assert audio.shape[0] == len(generated) * 320
    np.testing.assert_allclose(audio, whole[len(prep.prompt_codes) * 320:], atol=1e-5)
