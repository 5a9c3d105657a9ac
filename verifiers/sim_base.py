"""Speaker-similarity verifiers: cosine of candidate and reference speaker embeddings at 16 kHz.

score = cosine in [-1, 1]; worst score -1.0 (bad audio, missing or unusable reference). Partial audio is
judged like whole audio (the paper's "Partial PRM (spk sim)" scores the early part of the utterance).

Reference embeddings are computed once per utterance: ctx.reference_embedding wins; otherwise the embedding
of ctx.reference_audio is kept under ctx.key (or the audio's hash) and reused by every later candidate.
"""
from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict

import numpy as np

from . import audio as _audio
from .base import BatchedVerifier, VerifierResult, VerifyContext
from .cache import array_digest


class EmbeddingVerifier(BatchedVerifier):
    """Shared by speaker and emotion-embedding verifiers: candidate vs reference embedding cosine."""
    supports_partial = True
    worst_score = -1.0
    max_reference_cache = 4096

    def __init__(self, exact_batches: bool = True, **kw):
        super().__init__(**kw)
        # Convolutional encoders (ECAPA, x-vector) see the zero padding of a mixed-length batch, which moves
        # scores by ~1e-3. exact_batches batches only clips of equal length (a search step's candidates are),
        # so a batched score equals the one-by-one score; False pads freely (faster on mixed lengths).
        self.exact_batches = exact_batches
        self._refs: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self.reference_computations = 0     # how many reference embeddings were actually computed

    @abstractmethod
    def embed(self, waves: list[np.ndarray]) -> np.ndarray:
        """16 kHz mono float32 waveforms (already checked) -> (n, dim) embeddings; called with <= batch_size."""

    def embed_audio(self, wave, sample_rate: int = 16000) -> np.ndarray:
        """Public: embedding of one clip, e.g. to precompute VerifyContext.reference_embedding."""
        x = _audio.prepare(wave, sample_rate, self.sample_rate)
        flags = _audio.check(x, self.sample_rate, self.min_seconds)
        if flags:
            raise ValueError(f"cannot embed audio: {','.join(flags)}")
        return np.asarray(self.embed([x])[0], dtype=np.float32)

    def _embed_batched(self, waves: list[np.ndarray]) -> np.ndarray:
        groups: dict = {}
        for i, w in enumerate(waves):
            groups.setdefault(w.size if self.exact_batches else 0, []).append(i)
        out: list = [None] * len(waves)
        for idx in groups.values():
            for start in range(0, len(idx), self.batch_size):
                chunk = idx[start:start + self.batch_size]
                for i, e in zip(chunk, self.embed([waves[i] for i in chunk])):
                    out[i] = e
        return np.stack(out, axis=0)

    def _precheck(self, ctx):
        if ctx.reference_embedding is None and ctx.reference_audio is None:
            return self.failure(("no_reference",), f"{self.name} needs reference_audio or reference_embedding")
        return None

    def _ref_key(self, ctx: VerifyContext) -> str:
        return f"key:{ctx.key}" if ctx.key is not None else \
            f"audio:{array_digest(ctx.reference_audio, ctx.reference_sample_rate)}"

    def _references(self, contexts: list[VerifyContext]) -> list[np.ndarray | None]:
        """One embedding per context (None: unusable reference); each distinct reference embedded once."""
        todo: dict[str, np.ndarray] = {}
        for ctx in contexts:
            if ctx.reference_embedding is not None:
                continue
            k = self._ref_key(ctx)
            if k in self._refs or k in todo:
                continue
            x = _audio.prepare(ctx.reference_audio, ctx.reference_sample_rate, self.sample_rate)
            if _audio.check(x, self.sample_rate, self.min_seconds):
                self._remember(k, None)
            else:
                todo[k] = x
        if todo:
            embs = self._embed_batched(list(todo.values()))
            self.reference_computations += len(todo)
            for k, e in zip(todo, embs):
                self._remember(k, np.asarray(e, dtype=np.float32))
        out = []
        for ctx in contexts:
            if ctx.reference_embedding is not None:
                out.append(np.asarray(ctx.reference_embedding, dtype=np.float32).reshape(-1))
            else:
                out.append(self._refs[self._ref_key(ctx)])
        return out

    def _remember(self, k, e):
        self._refs[k] = e
        while len(self._refs) > self.max_reference_cache:
            self._refs.popitem(last=False)

    def _score_valid(self, waves, contexts):
        refs = self._references(contexts)
        cands = self._embed_batched(waves)
        out = []
        for c, r in zip(cands, refs):
            if r is None or not np.all(np.isfinite(r)) or r.shape != np.shape(c):
                out.append(self.failure(("bad_reference",), "reference audio unusable or embedding shape mismatch"))
                continue
            cos = float(np.clip(np.dot(c, r) / (np.linalg.norm(c) * np.linalg.norm(r) + 1e-12), -1.0, 1.0))
            if not np.isfinite(cos):
                out.append(self.failure(("nan",), "non-finite embedding"))
                continue
            out.append(VerifierResult(score=cos, metrics={"cosine": cos}))
        return out


class SpeakerVerifier(EmbeddingVerifier):
    """Speaker similarity (SIM): cosine of speaker embeddings."""
