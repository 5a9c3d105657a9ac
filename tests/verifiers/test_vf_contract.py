"""The verifier contract search code builds on: kind, partial_audio, min_score_seconds, can_judge,
check_available (fast, loads nothing, says the fix) and flops_per_second, for every built-in verifier."""
import os
import time

import numpy as np
import pytest

from verifiers import KINDS, VerifierUnavailable, VerifyContext, available_verifiers, cached, create_verifier
from verifiers import verifier_class
from verifiers.availability import require_package
from verifiers.whisper_common import LARGE_V3_PARAMS

import vf_tiny_models as tiny

KIND = {"whisper": "content", "pocketsphinx": "content", "paraformer_zh": "content", "ctc": "content",
        "faster_whisper": "content",
        "sim_resemblyzer": "speaker", "sim_ecapa": "speaker", "sim_wavlm_xvector": "speaker",
        "sim_wavlm_ecapa": "speaker",
        "emotion2vec": "emotion", "emotion_hf": "emotion", "emotion_speechbrain": "emotion"}
OPTIONS = {"emotion_hf": {"model": "superb/wav2vec2-base-superb-er"}}


def build(name):
    return create_verifier(name, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", sorted(available_verifiers()))
def test_every_builtin_declares_the_contract(name):
    cls = verifier_class(name)
    assert cls.kind == KIND[name] and cls.kind in KINDS
    assert cls.partial_audio == ("prefix" if cls.kind == "content" else "window")
    assert cls.min_score_seconds == 1.0
    v = build(name)
    assert v.kind == cls.kind
    f = v.flops_per_second()   # None: not a neural model, or a hub id of unknown size that is not cached
    assert f is None if name in ("pocketsphinx", "emotion_hf") else f > 1e8


@pytest.mark.parametrize("name", sorted(available_verifiers()))
def test_can_judge_names_what_is_missing(name):
    v = build(name)
    full = VerifyContext(text="hello world", reference_audio=np.full(16000, 0.1, np.float32), target_emotion="happy",
                         language="zh" if name == "paraformer_zh" else "en")
    assert v.can_judge(full) is None
    bare = VerifyContext(language=full.language)
    reason = v.can_judge(bare)
    expected = {"content": "text", "speaker": "reference audio", "emotion": "target emotion"}[v.kind]
    assert reason and expected in reason
    if v.kind == "speaker":
        assert v.can_judge(VerifyContext(reference_embedding=np.ones(4))) is None
    if v.kind == "emotion":
        assert v.can_judge(VerifyContext(target_emotion="sad")) is None
        assert v.can_judge(VerifyContext(reference_audio=np.ones(10))) is None


@pytest.mark.parametrize("name", sorted(available_verifiers()))
def test_check_available_is_fast_and_loads_nothing(name, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    v = build(name)
    t = time.perf_counter()
    try:
        v.check_available()
    except VerifierUnavailable as e:
        msg = str(e)
        assert name in msg and "\n" not in msg
        assert any(w in msg for w in ("pip install", "HF_HUB_OFFLINE", "folder", "checkpoint"))
    assert time.perf_counter() - t < 0.5
    assert getattr(v, "_model", None) is None and getattr(v, "_encoder", None) is None


def test_offline_verifiers_are_available():
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("resemblyzer")
    create_verifier("pocketsphinx").check_available()
    create_verifier("sim_resemblyzer").check_available()


def test_missing_package_message_names_the_fix():
    with pytest.raises(VerifierUnavailable, match=r"needs the Python package 'no_such_pkg_xyz': pip install extra"):
        require_package("no_such_pkg_xyz", "who", "pip install extra")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    pytest.importorskip("transformers")
    mk = tmp_path_factory.mktemp
    return {"whisper": tiny.make_whisper(str(mk("w"))), "sim_wavlm_xvector": tiny.make_wavlm_xvector(str(mk("x"))),
            "emotion_hf": tiny.make_wav2vec2_classifier(str(mk("e")))}


@pytest.mark.parametrize("name", ["whisper", "sim_wavlm_xvector", "emotion_hf"])
def test_local_folder_checks(folders, name, tmp_path):
    folder = folders[name]
    create_verifier(name, model=folder).check_available()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    with pytest.raises(VerifierUnavailable, match="lacks preprocessor_config.json or processor_config.json"):
        create_verifier(name, model=str(broken)).check_available()
    with pytest.raises(VerifierUnavailable, match="does not exist"):
        create_verifier(name, model=str(tmp_path / "nowhere")).check_available()


def test_speechbrain_folder_check(tmp_path):
    pytest.importorskip("speechbrain")
    with pytest.raises(VerifierUnavailable, match="lacks hyperparams.yaml"):
        create_verifier("sim_ecapa", model=str(tmp_path)).check_available()
    create_verifier("sim_ecapa", model=tiny.make_speechbrain_classifier(str(tmp_path))).check_available()


@pytest.mark.parametrize("name", ["sim_wavlm_xvector", "emotion_hf"])
def test_flops_from_files_match_the_loaded_model(folders, name):
    v = create_verifier(name, model=folders[name])
    before = v.flops_per_second()               # from the safetensors header, nothing loaded
    assert v._model is None
    v.load()
    n = sum(p.numel() for p in v._model.parameters())
    assert before == pytest.approx(2 * n * 50, rel=1e-6) and v.flops_per_second() == before


def test_whisper_flops_count_encoder_frames_and_decoder_tokens(folders):
    v = create_verifier("whisper", model=folders["whisper"])
    before = v.flops_per_second()
    v.load()
    enc = sum(p.numel() for p in v._model.model.encoder.parameters())
    dec = sum(p.numel() for p in v._model.model.decoder.parameters())
    assert before == pytest.approx(2 * (enc * 50 + dec * 4), rel=1e-6) == v.flops_per_second()


def test_whisper_costs_its_30s_window_per_clip_ctc_its_length():
    decoder_per_second = 2 * LARGE_V3_PARAMS[1] * 4                 # output tokens of the speech heard
    for name in ("whisper", "faster_whisper"):                       # both pad every clip to the 30 s window
        v = build(name)
        short, full = v.flops_per_clip(2.0), v.flops_per_clip(30.0)
        assert short - 2 * decoder_per_second == pytest.approx(full - 30 * decoder_per_second)   # same encoder
        assert short > 0.85 * full and v.flops_per_clip(60.0) == full       # longer clips are truncated
        assert full == pytest.approx(30 * v.flops_per_second())
        assert cached(v).flops_per_clip(2.0) == short
    ctc = build("ctc")                                                  # no window: a clip costs its length
    assert ctc.flops_per_clip(30.0) == pytest.approx(15 * ctc.flops_per_clip(2.0)) and ctc.flops_per_clip(2.0) > 0


def test_cached_verifier_keeps_the_contract(resemblyzer):
    c = cached(resemblyzer)
    assert (c.kind, c.partial_audio, c.min_score_seconds) == ("speaker", "window", 1.0)
    assert c.can_judge(VerifyContext()) == resemblyzer.can_judge(VerifyContext())
    assert c.flops_per_second() == resemblyzer.flops_per_second()
    c.check_available()
