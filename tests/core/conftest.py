"""Shared fixtures for the core tests: the tiny offline models are built once per session and loaded once.

tests/conftest.py (the parent) sets HF_HUB_OFFLINE=1 before anything imports huggingface_hub.
"""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """Tiny models with the real 65,536-code codebook (speech ids laid out as in the official checkpoints)."""
    from llasa_search.tiny import make_tiny

    root = tmp_path_factory.mktemp("tiny65536")
    paths = make_tiny(root)
    return {"root": str(root), **paths}


@pytest.fixture(scope="session")
def lm(tiny_dir):
    from llasa_search.model import LlasaLM

    return LlasaLM.load(tiny_dir["llm"], device="cpu")


@pytest.fixture(scope="session")
def codec(tiny_dir):
    from llasa_search.codec import SpeechCodec

    return SpeechCodec.load(tiny_dir["codec"], device="cpu")


@pytest.fixture(scope="session")
def engine(lm, codec):
    from llasa_search.engine import LlasaEngine

    return LlasaEngine(lm, codec)


@pytest.fixture
def backend(lm):
    """A fresh backend (own ledger) over the session's model; fp32 on CPU."""
    from llasa_search.generation import TransformersBackend, SamplingConfig

    return TransformersBackend(lm.model, lm.vocab, SamplingConfig(), max_length=lm.max_length)


def speechlike(seconds: float = 1.0, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A voiced-sounding test signal: harmonics of a gliding pitch with a syllable envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wav = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    wav = 0.3 * wav * env / np.abs(wav).max() + 0.01 * rng.standard_normal(t.size)
    return wav.astype(np.float32)


@pytest.fixture(scope="session")
def prompt_ids(lm):
    """Two prompts of different lengths (text-only) for generation tests."""
    from llasa_search.prompts import build_prompt_ids, make_prompt

    a = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt("Hello world!"))
    b = build_prompt_ids(lm.tokenizer, lm.vocab, make_prompt("The quick brown fox jumps over the lazy dog."))
    assert len(a) != len(b)
    return a, b
