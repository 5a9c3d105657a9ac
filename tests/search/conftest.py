"""Fixtures for the search tests. The tiny offline models are built once per session.

The tiny LLM uses a 4,096-code codebook (a power of 4, as the tiny codec's FSQ needs): sampling over 65,537
logits per token dominates CPU time on the tiny model, and the search code paths are the same.
`eos_boost=2.5` makes a typical tiny utterance last ~100 tokens, so with max_new_tokens 40-80 some
candidates end on END and some on the length cap.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

# Plain `pytest` (unlike `python -m pytest`) puts tests/ on sys.path, and tests/verifiers (a folder without
# __init__.py) would then shadow the `verifiers` package of the editable install as a namespace package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from search_helpers import FrameEnergyReward, OutcomeOnly

@pytest.fixture(scope="package", autouse=True)
def one_torch_thread():
    """One intra-op thread while these tests run: on a small shared CPU, two spinning OpenMP threads stall
    badly under contention (a 20 ms resemblyzer LSTM call was seen taking seconds); tiny models gain nothing
    from a second thread. Restored after the last test of this folder."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    from llasa_search.tiny import make_tiny

    root = tmp_path_factory.mktemp("tiny_search")
    paths = make_tiny(root, codebook_size=4096, eos_boost=2.5)
    return {"root": str(root), **paths}


@pytest.fixture(scope="session")
def engine(tiny_dir):
    from llasa_search.engine import LlasaEngine

    from llasa_search.generation import SamplingConfig

    # eos_boost 2.5 on this 4,096-code model was tuned for full-distribution sampling (top_k off): keep it, so the
    # search tests keep candidates of tens of tokens (top_k=50 makes END win within a few tokens here).
    return LlasaEngine.load(tiny_dir["llm"], tiny_dir["codec"], device="cpu", sampling=SamplingConfig(top_k=0))


@pytest.fixture
def reward():
    return {"frame_energy": FrameEnergyReward()}


@pytest.fixture
def outcome_only():
    return OutcomeOnly()


@pytest.fixture(scope="session")
def espeak_prompt(tmp_path_factory):
    """A real voice prompt: espeak-ng speech (16 kHz) with its transcript, also written to a WAV."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    from llasa_search.audio import write_wav
    from verifiers.synth import synthesize_espeak

    text = "She sells sea shells."
    audio, sr = synthesize_espeak(text, "en-us+f3")
    audio = audio[: int(1.6 * sr)]  # short prompt: fewer prompt codes to prefill and decode
    path = tmp_path_factory.mktemp("prompt") / "prompt.wav"
    write_wav(path, audio, sr)
    return {"audio": np.asarray(audio, np.float32), "sr": sr, "text": text, "wav": str(path)}


@pytest.fixture(scope="session")
def resemblyzer_available():
    try:
        import resemblyzer  # noqa: F401
    except ImportError:
        pytest.skip("resemblyzer not installed")
    return True
