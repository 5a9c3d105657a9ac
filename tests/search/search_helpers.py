"""Helpers for the search tests: a synthetic process reward (a real `verifiers.Verifier`), an outcome-only
verifier, and a counter of the tokens that actually reach the LM's forward."""
from __future__ import annotations

import contextlib

import numpy as np

from verifiers.base import Verifier, VerifierResult

TEXTS = [
    "Hello world!",
    "The quick brown fox jumps over the lazy dog.",
    "How are you today?",
    "She sells sea shells by the sea shore.",
    "Numbers one two three four.",
    "Beam search with verifiers.",
    "I am fine, thank you.",
    "Speech synthesis with search at inference time.",
]

HOP = 320  # samples per speech token at 16 kHz (50 tokens per second)


def frame_log_energy(wave: np.ndarray) -> np.ndarray:
    """log RMS of each 320-sample frame: one value per speech token."""
    n = len(wave) // HOP
    frames = np.asarray(wave[: n * HOP], dtype=np.float64).reshape(n, HOP)
    return np.log(np.sqrt((frames ** 2).mean(axis=1)) + 1e-6)


class FrameEnergyReward(Verifier):
    """Synthetic known reward: the per-frame average of the waveform's log frame energy.

    The tiny codec decodes codes deterministically and each frame's energy is governed mostly by its own code,
    so the reward is a deterministic function of the generated tokens; a prefix and a whole utterance are
    comparable because the reward is a per-frame average. Partial-capable (a process reward)."""

    name = "frame_energy"
    supports_partial = True
    min_score_seconds = 0.02  # one frame is enough to judge (real speech models need about a second)

    def __init__(self):
        self.calls = 0
        self.partial_calls = 0

    def score(self, waveforms, sample_rate, contexts):
        out = []
        for wave, ctx in zip(waveforms, contexts):
            self.calls += 1
            self.partial_calls += bool(getattr(ctx, "partial", False))
            if len(wave) < HOP:
                out.append(self.failure(("empty",), "no complete frame"))
                continue
            out.append(VerifierResult(float(frame_log_energy(wave).mean()), {"frames": int(len(wave) // HOP)}))
        return out

    def identity(self):
        return {"name": self.name}


class OutcomeOnly(FrameEnergyReward):
    """Same score, but declares it cannot judge partial audio (an outcome reward)."""

    name = "outcome_only"
    supports_partial = False


@contextlib.contextmanager
def count_lm_tokens(engine):
    """Count input_ids.numel() at the decoder's forward (engine.lm.model.model), every call."""
    seen = {"tokens": 0, "calls": 0, "shapes": []}

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids")
        if ids is None and args:
            ids = args[0]
        seen["tokens"] += int(ids.numel())
        seen["calls"] += 1
        seen["shapes"].append(tuple(ids.shape))

    handle = engine.lm.model.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


def text_requests(n: int, prefix: str = "u"):
    from llasa_search.engine import SynthesisRequest

    return [SynthesisRequest(text=TEXTS[i % len(TEXTS)], request_id=f"{prefix}{i}") for i in range(n)]
