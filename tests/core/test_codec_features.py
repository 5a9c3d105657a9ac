"""The codec's encoder inputs without torchaudio: equal to transformers' Xcodec2FeatureExtractor where
torchaudio loads, and a core install (no torchaudio at all) can make the tiny models and synthesize."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from .conftest import speechlike


def _reference_extractor():
    pytest.importorskip("torchaudio")
    from transformers import Xcodec2FeatureExtractor

    return Xcodec2FeatureExtractor()


@pytest.mark.parametrize("n", [320 * 25 - 1, 320 * 25, 320 * 25 + 1, 16000 + 123])
def test_features_equal_transformers_extractor(codec, n):
    import torch

    from llasa_search.codec_features import encoder_inputs

    wav = np.resize(speechlike(1.3, seed=n % 7), n) + 0.02 * np.sin(np.arange(n) * 0.3).astype(np.float32)
    ref = _reference_extractor()(audio=wav, sampling_rate=16000, return_tensors="pt")
    ours = encoder_inputs(wav)
    for key in ("input_values", "input_features", "input_features_mask"):
        assert ours[key].shape == ref[key].shape, key
    assert torch.equal(ours["input_values"], ref["input_values"])
    # float32 FFT order differs from torchaudio's; measured max difference 4e-5 on normalised features
    torch.testing.assert_close(ours["input_features"], ref["input_features"], atol=2e-4, rtol=0)
    with torch.inference_mode():
        theirs = codec.model.encode(**ref).audio_codes[0, 0].tolist()
    assert codec.encode(wav, check=False) == theirs  # every code, including the one the mask dropped


def test_mel_filter_bank_matches_kaldi_definition():
    from llasa_search.codec_features import mel_filter_bank

    torchaudio = pytest.importorskip("torchaudio")
    from torchaudio.compliance.kaldi import get_mel_banks

    theirs, _ = get_mel_banks(80, 512, 16000.0, 20.0, 8000.0, 100.0, -500.0, 1.0)
    ours = mel_filter_bank()
    assert ours.shape == (80, 257)
    np.testing.assert_allclose(ours[:, :256], theirs.double().numpy(), atol=1e-4)  # theirs in float32
    assert not ours[:, 256].any() and torchaudio  # Nyquist bin carries no weight, as in Kaldi


def test_make_tiny_leaves_no_half_written_folder(tmp_path, monkeypatch):
    from llasa_search import tiny

    def broken(_):
        raise RuntimeError("simulated failure while building the codec")

    monkeypatch.setattr(tiny, "build_tiny_codec", broken)
    with pytest.raises(RuntimeError, match="simulated"):
        tiny.make_tiny(tmp_path / "models")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither models/ nor a temp folder


# A core install has no torchaudio: hide it (transformers then treats it as absent), make the tiny models with the
# CLI and synthesize a cloned voice with them (the prompt is encoded, so the codec's feature path runs).
_CORE_INSTALL_SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["torchaudio"] = None  # `import torchaudio` now raises ImportError, find_spec returns None
    import numpy as np, soundfile as sf
    from llasa_search.cli import main
    d = sys.argv[1]
    assert main(["make-tiny", d + "/m", "--codebook-size", "4096"]) == 0
    t = np.arange(16000 * 2) / 16000
    sf.write(d + "/prompt.wav", (0.3 * np.sin(2 * np.pi * 140 * t) * (1 + np.sin(9 * t))).astype("float32"), 16000)
    rc = main(["synthesize", "--text", "Hello.", "--prompt-wav", d + "/prompt.wav", "--prompt-text", "Hi.",
               "--model", d + "/m/llm", "--codec", d + "/m/codec", "--out", d + "/out.wav", "-o", "max_new_tokens=40"])
    assert rc == 0
    assert "torchaudio" not in {m for m in sys.modules if sys.modules[m] is not None}
    print("OK", sf.info(d + "/out.wav").frames)
""")


@pytest.mark.slow
def test_core_install_without_torchaudio_makes_tiny_models_and_synthesizes(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _CORE_INSTALL_SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "OK" in proc.stdout
