"""Fast search-time content verifiers on tiny random models built in-process: CTC through transformers,
Whisper through faster-whisper (converted to CTranslate2 in-process), and length-bucketed batching."""
import numpy as np
import pytest

from verifiers import VerifyContext, create_verifier
from verifiers.batching import length_buckets, padded_samples

import vf_tiny_models as tiny

LENGTHS = (16000, 17000, 20000, 24000, 56000, 90000, 18000, 30000)   # 1 to 5.6 s


@pytest.fixture(scope="module")
def waves():
    rng = np.random.default_rng(0)
    return [(0.1 * rng.standard_normal(n)).astype(np.float32) for n in LENGTHS]


@pytest.fixture(scope="module")
def ctc_dirs(tmp_path_factory):
    pytest.importorskip("transformers")
    return {arch: tiny.make_ctc(str(tmp_path_factory.mktemp(arch)), arch) for arch in ("hubert", "wav2vec2")}


# ---- length buckets ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("max_padding", [0.0, 0.1, 0.25, 1.0])
def test_length_buckets_bound_padding(max_padding):
    rng = np.random.default_rng(1)
    sizes = [int(x) for x in rng.integers(8000, 400000, 200)]
    batches = length_buckets(sizes, 16, max_padding)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for b in batches:
        s = [sizes[i] for i in b]
        assert len(b) <= 16 and padded_samples(s) <= max_padding * sum(s)
    unbounded = length_buckets(sizes, 16, None)
    assert len(unbounded) == 13 and all(len(b) == 16 for b in unbounded[:-1])


def test_ctc_feeds_the_model_no_padding_to_30s(ctc_dirs, waves):
    """Count what the model is given: every clip's own length plus at most max_padding, never a 30 s window."""
    v = create_verifier("ctc", model=ctc_dirs["hubert"], batch_size=8).load()
    fed = []
    hook = v._model.register_forward_pre_hook(lambda m, args: fed.append(tuple(args[0].shape)))
    try:
        rs = v.score(waves, 16000, [VerifyContext(text="hello world")] * len(waves))
    finally:
        hook.remove()
    assert all(r.ok for r in rs)
    real = sum(LENGTHS)
    fed_samples = sum(b * t for b, t in fed)
    assert sum(b for b, _ in fed) == len(waves)
    assert max(t for _, t in fed) == max(LENGTHS) < 30 * 16000
    assert fed_samples - real <= 0.25 * real and fed_samples - real == v.padded_samples
    assert len(fed) > 1                     # the 1 s clips were not padded to the 5.6 s one
    padded = create_verifier("ctc", model=ctc_dirs["hubert"], batch_size=8, max_padding=None)
    padded.score(waves, 16000, [VerifyContext(text="hello world")] * len(waves))
    assert padded.padded_samples == len(LENGTHS) * max(LENGTHS) - real > 3 * v.padded_samples


# ---- CTC -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("arch", ["hubert", "wav2vec2"])
def test_ctc_batched_equals_one_by_one(ctc_dirs, waves, arch):
    v = create_verifier("ctc", model=ctc_dirs[arch], batch_size=8)
    ctxs = [VerifyContext(text="hello world", partial=i % 2 == 1, expected_fraction=0.5) for i in range(len(waves))]
    batch = v.score(waves, 16000, ctxs)
    single = [v.score([w], 16000, [c])[0] for w, c in zip(waves, ctxs)]
    assert [r.metrics["transcript"] for r in batch] == [r.metrics["transcript"] for r in single]
    assert [r.score for r in batch] == [r.score for r in single]
    assert any(r.metrics["transcript"] for r in batch)
    if arch != "hubert":
        return      # no attention mask: only equal lengths share a batch (next test), nothing more to compare
    lb, ls = v.logits(waves), [v.logits([w])[0] for w in waves]     # one padded batch vs one by one
    for a, b, n in zip(lb, ls, LENGTHS):
        frames = n
        for k, st in zip((10, 3, 3, 3, 3, 2, 2), (5, 2, 2, 2, 2, 2, 2)):   # the tiny front end's convolutions
            frames = (frames - k) // st + 1
        assert a.shape == b.shape and a.shape[0] == frames
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_ctc_group_norm_model_batches_equal_lengths_only(ctc_dirs):
    v = create_verifier("ctc", model=ctc_dirs["wav2vec2"])
    assert v.max_padding == 0.0            # no attention mask: padding would change its logits
    assert create_verifier("ctc", model=ctc_dirs["hubert"]).max_padding == 0.25


def test_ctc_wer_uses_seedtts_normalisation(ctc_dirs, waves):
    from verifiers import utterance_wer
    v = create_verifier("ctc", model=ctc_dirs["hubert"])
    text = "Hello, World! It's 'fine'."
    r = v.score_one(waves[0], text=text)
    m = utterance_wer(text, r.metrics["transcript"], "en", "seedtts")
    assert r.score == -m["wer"] and r.metrics["reference_normalized"] == "hello world it's 'fine'"  # apostrophes kept
    assert r.metrics["transcript"] == r.metrics["transcript"].upper()     # raw CTC letters, normalised for WER


def test_ctc_rejects_other_languages_and_fails_fast_offline(ctc_dirs, waves, monkeypatch):
    v = create_verifier("ctc", model=ctc_dirs["hubert"])
    assert "handles ('en',)" in v.can_judge(VerifyContext(text="你好", language="zh"))
    assert create_verifier("ctc", model=ctc_dirs["hubert"], languages=None).can_judge(
        VerifyContext(text="你好", language="zh")) is None
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from verifiers import VerifierUnavailable
    with pytest.raises(VerifierUnavailable, match="facebook/hubert-large-ls960-ft.*HF_HUB_OFFLINE"):
        create_verifier("ctc").check_available()


# ---- faster-whisper (CTranslate2) --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def whisper_dirs(tmp_path_factory):
    pytest.importorskip("faster_whisper")
    hf = tiny.make_whisper(str(tmp_path_factory.mktemp("hfwhisper")))
    return hf, tiny.convert_whisper_ct2(hf, str(tmp_path_factory.mktemp("ct2") / "model"))


def test_faster_whisper_batched_matches_single_and_transformers(whisper_dirs, waves):
    hf_dir, ct2_dir = whisper_dirs
    fw = create_verifier("faster_whisper", model=ct2_dir, max_new_tokens=20, batch_size=4)
    fw.check_available()
    ctxs = [VerifyContext(text="hello world", language="zh" if i % 3 == 2 else "en") for i in range(len(waves))]
    batch = fw.score(waves, 16000, ctxs)
    single = [fw.score([w], 16000, [c])[0] for w, c in zip(waves, ctxs)]
    texts = [r.metrics["transcript"] for r in batch]
    assert texts == [r.metrics["transcript"] for r in single]
    assert len(set(texts)) > 1 and all(texts)         # the tiny model's output depends on the audio
    # Same features, same forced prompt, greedy: CTranslate2 emits the transformers path's tokens (it stops
    # earlier at the same max_new_tokens, so compare as prefixes).
    ref = create_verifier("whisper", model=hf_dir, max_new_tokens=20, batch_size=4).score(waves, 16000, ctxs)
    for r, t in zip(ref, texts):
        assert r.metrics["transcript"].startswith(t)


def test_faster_whisper_flags_truncation_and_needs_its_files(whisper_dirs, tmp_path):
    hf_dir, ct2_dir = whisper_dirs
    fw = create_verifier("faster_whisper", model=ct2_dir, max_new_tokens=4)
    long = (0.1 * np.random.default_rng(2).standard_normal(31 * 16000)).astype(np.float32)
    assert "truncated_30s" in fw.score_one(long, text="a b").flags
    from verifiers import VerifierUnavailable
    with pytest.raises(VerifierUnavailable, match="lacks model.bin"):
        create_verifier("faster_whisper", model=hf_dir).check_available()
