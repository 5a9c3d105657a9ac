"""The verifier interface: score a batch of candidate waveforms, one result per candidate, higher is better."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from . import audio as _audio

log = logging.getLogger(__name__)


@dataclass
class VerifyContext:
    """What a verifier needs to know about one candidate besides its audio."""
    text: str | None = None                         # target text the audio should say
    language: str = "en"                            # "en" | "zh" | ...
    reference_audio: np.ndarray | None = None       # prompt/reference speech at reference_sample_rate
    reference_sample_rate: int = 16000
    reference_embedding: np.ndarray | None = None   # precomputed; wins over reference_audio
    target_emotion: str | None = None
    partial: bool = False                           # audio is a prefix of the final utterance
    expected_fraction: float | None = None          # partial audio: estimated fraction of the text it covers
    key: str | None = None                          # utterance id used to cache reference embeddings


@dataclass
class VerifierResult:
    score: float                    # higher is better; each verifier documents its worst value
    metrics: dict = field(default_factory=dict)
    ok: bool = True
    flags: tuple[str, ...] = ()     # "silent", "nan", "too_short", "empty", "clipped", "error", ...
    error: str | None = None


class VerifierUnavailable(RuntimeError):
    """A backend's package or model cannot be loaded here (missing extra, or not available offline)."""


class Verifier(ABC):
    name: str = "verifier"
    supports_partial: bool = False    # True: can judge a prefix (process reward); False: outcome-only
    worst_score: float = float("-inf")

    @abstractmethod
    def score(self, waveforms: Sequence[np.ndarray], sample_rate: int,
              contexts: Sequence[VerifyContext]) -> list[VerifierResult]:
        ...

    @abstractmethod
    def identity(self) -> dict:
        """Name + every setting that changes scores: used in cache keys and recorded in traces."""

    def failure(self, flags: tuple[str, ...], error: str | None = None, **metrics) -> VerifierResult:
        return VerifierResult(self.worst_score, dict(metrics), ok=False, flags=tuple(flags), error=error)


class BatchedVerifier(Verifier):
    """Common machinery: input conversion and checks, batching, and error isolation.

    Subclasses implement `_score_valid(waves16k, contexts) -> list[VerifierResult]` for audio that passed
    the checks. If a whole batch raises, its items are retried one by one so one bad candidate cannot
    take the others' scores with it; an item that still raises gets the worst score and the "error" flag.
    """
    sample_rate: int = _audio.TARGET_SR
    min_seconds: float = 0.1

    def __init__(self, batch_size: int = 8, device: str = "auto", dtype: str | None = None):
        self.batch_size = max(1, int(batch_size))
        self.device = device
        self.dtype = dtype

    @property
    def device(self) -> str:
        """'auto' resolves on first use to 'cuda' when torch sees a GPU, else 'cpu' (so creating a verifier
        that needs no torch, like pocketsphinx, does not import it)."""
        if self._device == "auto":
            try:
                import torch

                self._device = "cuda" if torch.cuda.is_available() else "cpu"
            except ImportError:
                self._device = "cpu"
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        self._device = value or "auto"

    @abstractmethod
    def _score_valid(self, waves: list[np.ndarray], contexts: list[VerifyContext]) -> list[VerifierResult]:
        ...

    def _settings(self) -> dict:
        """Settings that change scores (batch size and device are assumed not to)."""
        return {}

    def identity(self) -> dict:
        return {"name": self.name, **self._settings()}

    def _precheck(self, ctx: VerifyContext) -> VerifierResult | None:
        """Context problems found before running a model (e.g. missing reference); None if fine."""
        return None

    def score(self, waveforms, sample_rate, contexts):
        if len(waveforms) != len(contexts):
            raise ValueError(f"{len(waveforms)} waveforms but {len(contexts)} contexts")
        results: list[VerifierResult | None] = [None] * len(waveforms)
        todo: list[int] = []
        prepared: dict[int, np.ndarray] = {}
        extra_flags: dict[int, tuple[str, ...]] = {}
        for i, (w, ctx) in enumerate(zip(waveforms, contexts)):
            try:
                x = _audio.prepare(w, sample_rate, self.sample_rate)
            except Exception as e:  # unreadable input (e.g. object array): worst score, keep going
                results[i] = self.failure(("error",), f"bad audio: {e}")
                continue
            flags = _audio.check(x, self.sample_rate, self.min_seconds)
            if flags:
                results[i] = self.failure(flags, f"audio rejected: {','.join(flags)}")
                continue
            pre = self._precheck(ctx)
            if pre is not None:
                results[i] = pre
                continue
            prepared[i] = x
            extra_flags[i] = _audio.clip_flag(x)
            todo.append(i)
        # Similar lengths together: less padding, and padding-sensitive models see similar batches.
        todo.sort(key=lambda i: prepared[i].size)
        for start in range(0, len(todo), self.batch_size):
            idx = todo[start:start + self.batch_size]
            for i, r in zip(idx, self._run_isolated(idx, prepared, contexts)):
                if extra_flags[i]:
                    r.flags = tuple(r.flags) + extra_flags[i]
                results[i] = r
        return results  # type: ignore[return-value]

    def _run_isolated(self, idx, prepared, contexts) -> list[VerifierResult]:
        try:
            out = self._score_valid([prepared[i] for i in idx], [contexts[i] for i in idx])
            if len(out) != len(idx):
                raise RuntimeError(f"{self.name} returned {len(out)} results for {len(idx)} inputs")
            return out
        except VerifierUnavailable:
            raise  # a missing model is a setup error, not a bad candidate
        except Exception as e:
            if len(idx) == 1:
                log.warning("%s failed on one candidate: %s", self.name, e)
                return [self.failure(("error",), f"{type(e).__name__}: {e}")]
            return [r for i in idx for r in self._run_isolated([i], prepared, contexts)]


class LazyModel:
    """Mixin for a verifier backed by one model id (hub id or local folder), loaded on first use by
    `_load_model()`; the id is part of the verifier's identity. List it before the verifier base class."""

    def _init_model(self, model_id: str) -> None:
        self.model_id = model_id
        self._model = None

    def _settings(self) -> dict:
        return {**super()._settings(), "model": self.model_id}

    def _load_model(self):
        raise NotImplementedError

    def load(self):
        if self._model is None:
            self._model = self._load_model()
        return self
