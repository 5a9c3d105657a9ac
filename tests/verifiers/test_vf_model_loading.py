"""transformers / speechbrain / checkpoint loading paths on tiny random models saved to temporary folders,
plus fail-fast behaviour for models that cannot be loaded offline."""
import os
import time

import numpy as np
import pytest
import torch

from verifiers import VerifierUnavailable, VerifyContext, create_verifier

import vf_tiny_models as tiny


@pytest.fixture(scope="session")
def clips(speech):
    return [speech[("espeak", "en-us", 0)], speech[("espeak", "en-us+f3", 1)], speech[("piper", "joe", 2)][:20000]]


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    return tiny.make_whisper(str(tmp_path_factory.mktemp("whisper")))


@pytest.fixture(scope="session")
def xvector_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    return tiny.make_wavlm_xvector(str(tmp_path_factory.mktemp("xvector")))


@pytest.fixture(scope="session")
def w2v2_cls_dir(tmp_path_factory):
    pytest.importorskip("transformers")
    return tiny.make_wav2vec2_classifier(str(tmp_path_factory.mktemp("w2v2cls")))


@pytest.fixture(scope="session")
def sb_dir(tmp_path_factory):
    pytest.importorskip("speechbrain")
    return tiny.make_speechbrain_classifier(str(tmp_path_factory.mktemp("sb")))


@pytest.fixture(scope="session")
def seedtts_ckpt(tmp_path_factory):
    pytest.importorskip("transformers")
    path = str(tmp_path_factory.mktemp("sv") / "wavlm_large_finetune.pth")
    backbone, head = tiny.make_seedtts_sv_checkpoint(path)
    return path, backbone, head


# ---- Whisper ------------------------------------------------------------------------------------------------

def test_whisper_tiny_loads_and_scores(whisper_dir, clips):
    v = create_verifier("whisper", model=whisper_dir, max_new_tokens=8, batch_size=2)
    ctxs = [VerifyContext(text="hello there"), VerifyContext(text="你好", language="zh"), VerifyContext(text="x")]
    batch = v.score(clips, 16000, ctxs)
    for r in batch:
        assert r.ok and isinstance(r.metrics["transcript"], str)
        assert r.score == -r.metrics["wer"]
    single = [v.score([c], 16000, [x])[0] for c, x in zip(clips, ctxs)]
    assert [r.metrics["transcript"] for r in batch] == [r.metrics["transcript"] for r in single]


def test_whisper_forces_language(whisper_dir, clips):
    """The decoder prompt must carry the context's language token."""
    v = create_verifier("whisper", model=whisper_dir, max_new_tokens=4).load()
    seen = []
    hook = v._model.model.decoder.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append((kwargs.get("input_ids") if kwargs.get("input_ids") is not None else args[0])[0, :4].tolist()),
        with_kwargs=True)
    try:
        v.score([clips[0]], 16000, [VerifyContext(text="a", language="zh")])
    finally:
        hook.remove()
    tok = v._processor.tokenizer
    assert tok.convert_tokens_to_ids("<|zh|>") in seen[0]
    assert tok.convert_tokens_to_ids("<|transcribe|>") in seen[0]


# ---- speaker: transformers x-vector, speechbrain ECAPA, Seed-TTS-eval WavLM+ECAPA ----------------------------

@pytest.mark.parametrize("name,fixture", [("sim_wavlm_xvector", "xvector_dir"), ("sim_ecapa", "sb_dir")])
def test_speaker_backends_tiny(request, name, fixture, clips):
    v = create_verifier(name, model=request.getfixturevalue(fixture), batch_size=3)
    ref = clips[0]
    ctx = VerifyContext(reference_audio=ref, key="u")
    batch = v.score(clips, 16000, [ctx] * 3)
    assert all(r.ok and -1 <= r.score <= 1 for r in batch)
    assert batch[0].score == pytest.approx(1.0, abs=1e-4)       # the reference itself
    single = [v.score([c], 16000, [ctx])[0].score for c in clips]
    # clips of different lengths are batched by equal length (exact_batches), so batch == one-by-one
    np.testing.assert_allclose([r.score for r in batch], single, atol=1e-5)
    assert v.reference_computations == 1
    padded = create_verifier(name, model=request.getfixturevalue(fixture), batch_size=3, exact_batches=False)
    np.testing.assert_allclose([r.score for r in padded.score(clips, 16000, [ctx] * 3)], single, atol=2e-2)


def test_seedtts_wavlm_ecapa_checkpoint_round_trip(seedtts_ckpt, clips):
    path, backbone, head = seedtts_ckpt
    v = create_verifier("sim_wavlm_ecapa", checkpoint=path, batch_size=3).load()
    # every backbone weight arrived under its transformers name
    for k, t in backbone.state_dict().items():
        if k != "masked_spec_embed":
            assert torch.equal(v._backbone.state_dict()[k], t), k
    for k, t in head.state_dict().items():
        assert torch.equal(v._head.state_dict()[k], t), k
    # independent forward: layer inputs + final output, as s3prl's hooks expose them
    x = torch.from_numpy(clips[1]).float()[None]
    x = torch.nn.functional.layer_norm(x, x.shape[-1:])
    with torch.no_grad():
        out = backbone(x, output_hidden_states=False)
        feats = []
        hs = x
        h = backbone.feature_extractor(hs).transpose(1, 2)
        h, _ = backbone.feature_projection(h)
        h = h + backbone.encoder.pos_conv_embed(h)
        bias = None
        for layer in backbone.encoder.layers:
            feats.append(h)
            h, bias = layer(h, position_bias=bias)
        feats.append(backbone.encoder.layer_norm(h))
        assert torch.allclose(feats[-1], out.last_hidden_state, atol=1e-5)
        expected = head(torch.stack(feats, 0))[0].numpy()
    got = v.embed([clips[1]])[0]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    batch = [r.score for r in v.score(clips, 16000, [VerifyContext(reference_audio=clips[0])] * 3)]
    single = [v.score([c], 16000, [VerifyContext(reference_audio=clips[0])])[0].score for c in clips]
    np.testing.assert_allclose(batch, single, atol=1e-4)


def test_seedtts_checkpoint_is_loaded_without_unpickling_code(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model": {"w": torch.zeros(1)}, "extra": os.system}, path)    # a pickled callable
    v = create_verifier("sim_wavlm_ecapa", checkpoint=str(path))
    with pytest.raises(Exception, match="(?i)weights_only|unsupported|global"):
        v.load()


def test_seedtts_checkpoint_required():
    with pytest.raises(VerifierUnavailable, match="checkpoint"):
        create_verifier("sim_wavlm_ecapa").load()


# ---- emotion -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,fixture", [("emotion_hf", "w2v2_cls_dir"), ("emotion_speechbrain", "sb_dir")])
def test_emotion_backends_tiny(request, name, fixture, clips):
    v = create_verifier(name, model=request.getfixturevalue(fixture))
    assert v.labels() == tiny.SB_LABELS
    ctxs = [VerifyContext(target_emotion="angry"), VerifyContext(target_emotion="hap"),
            VerifyContext(target_emotion="disgusted"), VerifyContext(reference_audio=clips[0]), VerifyContext()]
    rs = v.score([clips[0]] * 5, 16000, ctxs)
    p = rs[0].metrics["probs"]
    assert sum(p.values()) == pytest.approx(1.0, abs=1e-5)
    assert rs[0].ok and rs[0].score == pytest.approx(p["ang"], abs=1e-6) and rs[0].metrics["target"] == "angry"
    assert rs[1].score == pytest.approx(p["hap"], abs=1e-6)
    assert rs[2].flags == ("unknown_emotion",) and rs[2].score == -1.0      # IEMOCAP has no disgust
    assert rs[3].score == pytest.approx(1.0, abs=1e-4)                     # emotion similarity to itself
    assert rs[4].flags == ("no_target",)
    vp = create_verifier(name, model=request.getfixturevalue(fixture), similarity="probs")
    r = vp.score([clips[1]], 16000, [VerifyContext(reference_audio=clips[2])])[0]
    assert r.ok and 0 <= r.score <= 1 + 1e-6                              # cosine of probability vectors


def test_emotion_labels_map_to_canonical():
    from verifiers.emotion_labels import EMOTION2VEC_LABELS, IEMOCAP_LABELS, canonical
    assert [canonical(l) for l in IEMOCAP_LABELS] == ["neutral", "angry", "happy", "sad"]
    assert canonical("生气/angry") == "angry" and canonical("Happy") == "happy" and canonical("<unk>") == "unknown"
    assert [canonical(l) for l in EMOTION2VEC_LABELS] == list(EMOTION2VEC_LABELS)
    assert canonical("bored") is None


# ---- offline failures --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,model", [
    ("whisper", "openai/whisper-large-v3"),
    ("sim_wavlm_xvector", "microsoft/wavlm-base-plus-sv"),
    ("emotion_hf", "superb/wav2vec2-base-superb-er"),
    ("sim_ecapa", "speechbrain/spkrec-ecapa-voxceleb"),
    ("emotion_speechbrain", "speechbrain/emotion-recognition-wav2vec2-IEMOCAP"),
])
def test_hub_id_fails_fast_offline(name, model, monkeypatch):
    if name in ("sim_ecapa", "emotion_speechbrain"):
        pytest.importorskip("speechbrain")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    v = create_verifier(name, model=model)
    t = time.perf_counter()
    with pytest.raises(VerifierUnavailable) as e:
        v.score([np.full(16000, 0.1, np.float32)], 16000, [VerifyContext(text="a", target_emotion="angry",
                                                                          reference_audio=np.full(16000, 0.1, np.float32))])
    assert time.perf_counter() - t < 15
    msg = str(e.value)
    assert model in msg and "HF_HUB_OFFLINE" in msg and "folder" in msg


@pytest.mark.parametrize("name", ["paraformer_zh", "emotion2vec"])
def test_funasr_extra_missing_is_clear(name):
    try:
        import funasr  # noqa: F401
        pytest.skip("funasr installed")
    except ImportError:
        pass
    with pytest.raises(VerifierUnavailable, match="funasr"):
        create_verifier(name).load()


def test_wavlm_ecapa_identity_tells_same_named_checkpoints_apart(tmp_path):
    """Two different checkpoints saved as wavlm_large_finetune.pth must not share cached scores or sweep hashes;
    the same file under another folder keeps its identity (results stay portable across machines)."""
    import shutil

    import torch
    from verifiers import create_verifier

    paths = []
    for i in range(2):
        folder = tmp_path / f"ckpt{i}"
        folder.mkdir()
        torch.manual_seed(i)
        torch.save({"model": {"w": torch.randn(64, 64)}}, folder / "wavlm_large_finetune.pth")
        paths.append(folder / "wavlm_large_finetune.pth")
    copy = tmp_path / "copy" / "wavlm_large_finetune.pth"
    copy.parent.mkdir()
    shutil.copy(paths[0], copy)
    ids = [create_verifier("sim_wavlm_ecapa", checkpoint=str(p)).identity() for p in (*paths, copy)]
    assert ids[0] != ids[1]
    assert ids[0] == ids[2]
