"""The verifier interface: score a batch of candidate waveforms, one result per candidate, higher is better."""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np

from . import audio as _audio
from .batching import length_buckets

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


KINDS = ("content", "speaker", "emotion", "other")


def as_batch(waveforms, contexts) -> tuple[list, list[VerifyContext]]:
    """Accept one clip (a path or a 1-D array), or one context for every clip; a batch otherwise."""
    if waveforms is None or _audio.is_path(waveforms) or (isinstance(waveforms, np.ndarray) and waveforms.ndim == 1):
        waveforms = [waveforms]
    waveforms = list(waveforms)
    if isinstance(contexts, VerifyContext) or contexts is None:
        contexts = [contexts or VerifyContext()] * len(waveforms)
    contexts = list(contexts)
    if len(waveforms) != len(contexts):
        raise ValueError(f"{len(waveforms)} waveforms but {len(contexts)} contexts")
    return waveforms, contexts


class Verifier(ABC):
    """Scores candidates; one VerifierResult per clip, in order.

    What callers may ask before scoring (none of it loads a model):
    - `kind`: "content" (transcript vs text), "speaker", "emotion" or "other";
    - `supports_partial`: can judge a prefix (process reward); `partial_audio`: what a partial call needs,
      "prefix" (all audio so far, e.g. ASR against the leading text) or "window" (the latest seconds suffice);
    - `min_score_seconds`: the shortest partial audio it judges meaningfully (search skips shorter children);
    - `can_judge(ctx)`: None, or why this request cannot be judged (e.g. no reference audio);
    - `check_available()`: raises VerifierUnavailable with the fix when package or model is missing here;
    - `flops_per_second()`: rough forward FLOPs per second of 16 kHz audio (None if unknown);
    - `flops_per_clip(seconds)`: rough forward FLOPs of scoring one clip that long (None if unknown); by default
      flops_per_second() * seconds; a model that reads a fixed window (Whisper: 30 s) costs that window per clip.
    """
    name: str = "verifier"
    kind: ClassVar[str] = "other"
    supports_partial: bool = False    # True: can judge a prefix (process reward); False: outcome-only
    partial_audio: ClassVar[str] = "window"
    min_score_seconds: ClassVar[float] = 1.0
    worst_score: float = float("-inf")

    @abstractmethod
    def score(self, waveforms: Sequence[np.ndarray], sample_rate: int | None,
              contexts: Sequence[VerifyContext]) -> list[VerifierResult]:
        ...

    @abstractmethod
    def identity(self) -> dict:
        """Name + every setting that changes scores: used in cache keys and recorded in traces."""

    def can_judge(self, ctx: VerifyContext) -> str | None:
        return None

    def check_available(self) -> None:
        return None

    def flops_per_second(self) -> float | None:
        return None

    def flops_per_clip(self, seconds: float) -> float | None:
        per_second = self.flops_per_second()
        return None if per_second is None else per_second * float(seconds)

    def score_one(self, audio, sample_rate: int | None = None, context: VerifyContext | None = None,
                  **fields) -> VerifierResult:
        """Score one clip (array or path). Context as a VerifyContext or as its fields, e.g. text="...".
        sample_rate None: the file's rate for a path, 16 kHz for an array."""
        if context is not None and fields:
            raise TypeError("pass either context= or VerifyContext fields, not both")
        return self.score([audio], sample_rate, [context or VerifyContext(**fields)])[0]

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
    max_padding: float | None = None    # batches.length_buckets: None = batches of batch_size by sorted length

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
        """Context problems found before running a model (e.g. missing reference); None if fine.
        Must stay cheap: can_judge() asks it too."""
        return None

    def can_judge(self, ctx: VerifyContext) -> str | None:
        r = self._precheck(ctx)
        return None if r is None else (r.error or ",".join(r.flags))

    def score(self, waveforms, sample_rate, contexts):
        """waveforms: arrays and/or sound-file paths (one path alone is a batch of one); sample_rate: of the
        arrays (None: 16 kHz); paths are read at their own rate. Then resampled to 16 kHz and downmixed."""
        waveforms, contexts = as_batch(waveforms, contexts)
        results: list[VerifierResult | None] = [None] * len(waveforms)
        todo: list[int] = []
        prepared: dict[int, np.ndarray] = {}
        extra_flags: dict[int, tuple[str, ...]] = {}
        for i, (w, ctx) in enumerate(zip(waveforms, contexts)):
            try:
                x = _audio.prepare(w, sample_rate, self.sample_rate)
            except _audio.AudioInputError as e:  # None, unreadable file, object array: worst score, keep going
                results[i] = self.failure((e.flag,), str(e))
                continue
            flags = _audio.check(x, self.sample_rate, self.min_seconds)
            if flags:
                results[i] = self.failure(
                    flags, f"audio rejected: it {_audio.describe(flags, x, self.sample_rate, self.min_seconds)}")
                continue
            pre = self._precheck(ctx)
            if pre is not None:
                results[i] = pre
                continue
            prepared[i] = x
            extra_flags[i] = _audio.clip_flag(x)
            todo.append(i)
        # Similar lengths together: less padding, and padding-sensitive models see similar batches.
        sizes = [prepared[i].size for i in todo]
        for bucket in length_buckets(sizes, self.batch_size, self.max_padding) if todo else []:
            idx = [todo[b] for b in bucket]
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
    `_load_model()`; the id is part of the verifier's identity. List it before the verifier base class.

    Subclasses declare what check_available() and flops_per_second() need: `packages` ((module, pip fix)
    pairs), `model_files` (files the loader reads from a folder; a tuple entry lists alternatives) and
    `frames_per_second` (frames the model's body runs per second of audio: 50 for wav2vec2-style encoders).
    """
    packages: ClassVar[tuple[tuple[str, str], ...]] = ()
    model_files: ClassVar[tuple] = ("config.json",)
    frames_per_second: ClassVar[float] = 50.0

    def _init_model(self, model_id: str) -> None:
        self.model_id = model_id
        self._model = None

    def _settings(self) -> dict:
        return {**super()._settings(), "model": self.model_id}

    def _load_model(self):
        raise NotImplementedError

    def load(self):
        if self._model is None:
            self._require_packages()
            self._model = self._load_model()
        return self

    def _require_packages(self) -> None:
        from .availability import require_package
        for module, fix in self.packages:
            require_package(module, self.name, fix)

    def check_available(self) -> None:
        from .availability import require_model
        self._require_packages()
        require_model(self.model_id, self.model_files, self.name)

    def _param_count(self) -> float | None:
        """Parameters of the loaded model, else of the checkpoint's files / the known default (no loading)."""
        from .availability import model_params
        params = getattr(self._model, "parameters", None)
        if callable(params):
            try:
                return float(sum(p.numel() for p in params()))
            except Exception:
                pass
        return model_params(self.model_id)

    def flops_per_second(self) -> float | None:
        from .availability import forward_flops
        return forward_flops(self._param_count(), self.frames_per_second)
