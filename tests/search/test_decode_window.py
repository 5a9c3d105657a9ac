"""Windowed partial decoding (issue 10.2): a live candidate scored by a window-PRM is decoded from its last seconds
plus a short left context, never prompt + whole prefix; content verifiers still get the whole prefix; the ledger
counts every code decoded, context included; codec work per generated second stays bounded as utterances grow."""
from __future__ import annotations

import numpy as np
import pytest

from llasa_search.decode_window import DecodeWindow, decode_inputs
from verifiers.base import Verifier, VerifierResult

PROMPT_SECONDS = 3.0


class _Loudness(Verifier):
    name = "loud"
    kind = "speaker"
    supports_partial = True
    min_score_seconds = 0.0

    def __init__(self):
        self.lengths = []

    def score(self, waveforms, sample_rate, contexts):
        self.lengths.extend(len(w) for w in waveforms)
        return [VerifierResult(float(np.mean(np.square(w))) if len(w) else 0.0, {}) for w in waveforms]

    def identity(self):
        return {"name": self.name}


class _Content(_Loudness):
    name = "asr_like"
    kind = "content"


def _prompt_audio():
    t = np.arange(int(16000 * PROMPT_SECONDS)) / 16000
    return (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(9 * t))).astype(np.float32)


@pytest.fixture(scope="module")
def cloned(engine):
    from llasa_search.engine import SynthesisRequest

    (prep,) = engine.prepare([SynthesisRequest(text="Hello there.", prompt_text="A prompt.",
                                               prompt_audio=_prompt_audio(), request_id="w")])
    return prep


def test_split_keeps_last_window_after_bounded_context():
    w = DecodeWindow(seconds=1.0, context_seconds=0.2)  # 50 codes kept, 10 codes of context
    prompt, codes = list(range(1000, 1150)), list(range(300))
    context, kept = w.split(prompt, codes)
    assert kept == codes[-50:] and context == codes[240:250]
    context, kept = w.split(prompt, codes[:30])  # shorter than the window: the prompt's tail is the context
    assert kept == codes[:30] and context == prompt[-10:]
    assert decode_inputs(prompt, codes, None) == (prompt, codes)  # no window: the official recipe


def test_window_covering_everything_equals_the_full_decode_exactly(engine, cloned):
    codes = np.random.default_rng(0).integers(0, engine.codec.codebook_size, 80).tolist()
    (full,) = engine.decode([(cloned, codes)])
    (same,) = engine.decode([(cloned, codes)], windows=[DecodeWindow(seconds=10.0, context_seconds=10.0)])
    np.testing.assert_allclose(same, full, atol=1e-5)  # offsets and cut-off are exact


def test_windowed_audio_matches_the_slice_of_a_full_decode(engine, cloned):
    """X-codec2's decoder is not local (attention and GroupNorm statistics span the sequence), so a window is an
    approximation. Measured on the tiny codec (bench_codec_window.py): RMS error / RMS signal 0.06 with the
    default 1 s context on random codes, 0.13 with none. Bound: 0.15, and context must help."""
    rng = np.random.default_rng(1)
    codes = rng.integers(0, engine.codec.codebook_size, 500).tolist()  # 10 s
    (full,) = engine.decode([(cloned, codes)])
    window = DecodeWindow()  # last 5 s after 1 s
    (part,) = engine.decode([(cloned, codes)], windows=[window])
    (bare,) = engine.decode([(cloned, codes)], windows=[DecodeWindow(context_seconds=0.0)])
    ref = full[-len(part):]
    assert len(part) == 250 * 320

    def rel(x):
        return float(np.sqrt(np.mean((x - ref) ** 2)) / np.sqrt(np.mean(ref ** 2)))

    assert rel(part) < 0.15 and rel(part) < rel(bare)


def test_the_codec_decodes_context_codes_too(engine, cloned):
    """What the codec runs (and the search context charges: see the next test) includes the context codes."""
    codes, codec = list(range(400)), engine.codec
    before = codec.seconds_decoded
    engine.decode([(cloned, codes)], windows=[DecodeWindow(seconds=2.0, context_seconds=0.5)])
    assert codec.seconds_decoded - before == pytest.approx((100 + 25) / 50)
    before = codec.seconds_decoded
    engine.decode([(cloned, codes)])
    assert codec.seconds_decoded - before == pytest.approx((len(cloned.prompt_codes) + 400) / 50)


def test_context_decode_windows_live_states_for_window_prms_only(engine, cloned):
    from llasa_search.generation import SamplingConfig
    from llasa_search.search.context import SearchContext

    ctx = SearchContext(engine, {"loud": _Loudness(), "asr_like": _Content()}, SamplingConfig(min_new_tokens=100))
    window = DecodeWindow(seconds=1.0, context_seconds=0.2)
    (state,) = ctx.backend.prefill([cloned.prompt_ids], [0], [cloned.request_id])
    ctx.backend.extend([state], 100)
    assert not state.finished and state.num_generated == 100
    pair = [(cloned, state)]
    (windowed,) = ctx.decode(pair, for_verifier="loud", window=window)
    assert len(windowed) == 50 * 320
    assert ctx.request_ledgers["w"].codec_audio_seconds == pytest.approx((50 + 10) / 50)  # no prompt decoded
    (prefix,) = ctx.decode(pair, for_verifier="asr_like", window=window)  # content verifier: the whole prefix
    (plain,) = ctx.decode(pair)
    assert len(prefix) == len(plain) == 100 * 320
    np.testing.assert_allclose(prefix, plain, atol=1e-6)
    state.finished = True  # a finished child is judged as a whole utterance
    (whole,) = ctx.decode(pair, for_verifier="loud", window=window)
    assert len(whole) == 100 * 320
    ctx.backend.release([state])


@pytest.mark.slow
def test_codec_seconds_per_generated_second_stay_bounded_in_beam(engine):
    """Beam with a speaker-kind PRM and a voice prompt, utterances forced to 2 and 8 s."""
    from llasa_search.engine import SynthesisRequest
    from llasa_search.generation import SamplingConfig
    from llasa_search.search import make_strategy
    from llasa_search.search.context import SearchContext

    def ratio(seconds, window):
        tokens = int(seconds * 50)
        ctx = SearchContext(engine, {"loud": _Loudness()}, SamplingConfig(min_new_tokens=tokens))
        (prep,) = engine.prepare([SynthesisRequest(text="Hi.", prompt_text="A prompt.", prompt_audio=_prompt_audio(),
                                                   request_id="b")])
        make_strategy("beam", {"prm_verifier": "loud", "beam_width": 2, "expansions": 2, "step_tokens": 50,
                               "max_new_tokens": tokens, **window}).search(ctx, [prep], 0)
        return ctx.ledger.codec_audio_seconds / (ctx.ledger.generated_tokens / 50)

    window = {"partial_window_s": 2.0, "partial_context_s": 0.5}
    short, long = ratio(2, window), ratio(8, window)
    assert long < 1.25 * short  # bounded: per step a fixed 2.5 s per live candidate
    before_short, before_long = ratio(2, {"partial_window_s": 0}), ratio(8, {"partial_window_s": None})
    assert before_long > 1.3 * before_short  # prompt + whole prefix: grows with length (measured 5.8 -> 8.2)
    assert long < before_long


@pytest.mark.parametrize("strategy,extra", [("beam", {}), ("dvts", {"subtrees": 2, "beam_width": 1}),
                                            ("staged", {"prm_steps": 3, "n_final": 2})])
@pytest.mark.parametrize("window", [(1.0, 0.2), (0.5, 0.0), (0, 1.0), (None, 1.0)])
def test_the_codec_is_asked_for_the_configured_window(engine, cloned, monkeypatch, strategy, extra, window):
    from llasa_search.generation import SamplingConfig
    from llasa_search.search import make_strategy
    from llasa_search.search.context import SearchContext

    asked = []   # (windows, (context length, kept length) per item) of every codec decode
    real = engine.decode

    def spy(items, windows=None):
        ws = list(windows) if windows is not None else [None] * len(items)
        asked.append([(w, tuple(map(len, decode_inputs(req.prompt_codes, c, w)))) for (req, c), w in zip(items, ws)])
        return real(items, windows)

    monkeypatch.setattr(engine, "decode", spy)
    seconds, context = window
    ctx = SearchContext(engine, {"loud": _Loudness()}, SamplingConfig(min_new_tokens=150))
    strat = make_strategy(strategy, {"prm_verifier": "loud", "step_tokens": 50, "max_new_tokens": 150,
                                     "expansions": 2, "partial_window_s": seconds, "partial_context_s": context,
                                     **extra})
    [res] = strat.search(ctx, [cloned], 0)
    assert res.config["partial_window_s"] == seconds and res.config["partial_context_s"] == context   # traced
    partial = [a for call in asked for a in call if a[0] is not None]
    if not seconds:
        assert partial == []                      # prompt + whole prefix, as before windows existed
        return
    assert partial and all(w == DecodeWindow(seconds, context) for w, _ in partial)
    # live children are 50 and 100 tokens long: the codec gets the window's codes after the context's (the prompt's
    # codes stand in for the context where the child is shorter)
    assert {lengths for _, lengths in partial} == {(round(context * 50), round(seconds * 50))}


def test_a_window_too_short_for_the_prm_is_refused_before_generating(engine, cloned):
    from llasa_search.errors import ConfigError
    from llasa_search.preflight import check_can_judge, check_strategy, verify_context
    from llasa_search.search import make_strategy
    from llasa_search.search.context import SearchContext

    class NeedsASecond(_Loudness):
        min_score_seconds = 1.0

    opts = {"prm_verifier": "loud", "partial_window_s": 0.5}
    strategy = check_strategy("beam", opts)
    with pytest.raises(ConfigError, match=r"partial_window_s=0.5 is shorter than the 1 s .* 'loud' needs"):
        check_can_judge(strategy, {"loud": NeedsASecond()}, verify_context("Hi.", np.ones(16000, np.float32)))
    ctx = SearchContext(engine, {"loud": NeedsASecond()})
    with pytest.raises(ConfigError, match="partial_window_s"):
        make_strategy("beam", opts).search(ctx, [cloned], 0)
    assert ctx.ledger.generated_tokens == 0
    for bad, match in (({"partial_window_s": -1}, "partial_window_s must be >= 0"),
                       ({"partial_context_s": -0.5}, "partial_context_s must be >= 0"),
                       ({"partial_window_s": "5s"}, "must be a number")):
        for name in ("beam", "dvts", "staged"):
            with pytest.raises(ConfigError, match=match):
                check_strategy(name, bad)
