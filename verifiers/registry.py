"""Name -> verifier class. A new verifier is one new module plus one line in _BUILTIN."""
from __future__ import annotations

import importlib

from .base import Verifier

_REGISTRY: dict[str, type] = {}

# name -> module that registers it; imported on first use so optional extras cost nothing until asked for.
_BUILTIN = {
    "whisper": "verifiers.asr_whisper",
    "pocketsphinx": "verifiers.asr_pocketsphinx",
    "ctc": "verifiers.asr_ctc",
    "faster_whisper": "verifiers.asr_faster_whisper",
    "paraformer_zh": "verifiers.asr_paraformer",
    "sim_resemblyzer": "verifiers.sim_resemblyzer",
    "sim_ecapa": "verifiers.sim_ecapa",
    "sim_wavlm_xvector": "verifiers.sim_wavlm_xvector",
    "sim_wavlm_ecapa": "verifiers.sim_wavlm_ecapa",
    "emotion2vec": "verifiers.emotion_emotion2vec",
    "emotion_hf": "verifiers.emotion_hf",
    "emotion_speechbrain": "verifiers.emotion_speechbrain",
}


def register(name: str):
    def deco(cls):
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"verifier name {name!r} already registered to {_REGISTRY[name].__name__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls
    return deco


def verifier_names() -> set[str]:
    """Every name create_verifier accepts, without importing any verifier module."""
    return set(_BUILTIN) | set(_REGISTRY)


def verifier_class(name: str) -> type:
    """The class registered under `name` (imports its module, loads no model): read `kind`,
    `supports_partial`, `partial_audio`, `min_score_seconds` without building a verifier."""
    return _load(name)


def _load(name: str) -> type:
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        raise KeyError(f"unknown verifier {name!r}; available: {', '.join(sorted(available_verifiers()))}")
    return _REGISTRY[name]


def create_verifier(name: str, **options) -> Verifier:
    """Build a verifier by name. Models load lazily, on the first score() call (or .load())."""
    return _load(name)(**options)


def available_verifiers() -> dict[str, str]:
    """name -> one-line description (first docstring line)."""
    out = {}
    for name in sorted(set(_BUILTIN) | set(_REGISTRY)):
        cls = _load(name)
        out[name] = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    return out
