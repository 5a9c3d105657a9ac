"""Speaker-similarity verifiers: cosine of candidate and reference speaker embeddings at 16 kHz.

score = cosine in [-1, 1]; worst score -1.0 (bad audio, missing or unusable reference). Partial audio is
judged like whole audio (the paper's "Partial PRM (spk sim)" scores the early part of the utterance).

Reference embeddings are computed once per utterance: ctx.reference_embedding wins; otherwise the embedding
of ctx.reference_audio is kept under ctx.key plus the audio's hash and reused by every later candidate.
"""
from __future__ import annotations

from abc import abstractmethod
from collections import OrderedDict

import numpy as np

from . import audio as _audio
from .base import BatchedVerifier, VerifierResult, VerifyContext
from .cache import audio_digest


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
        self._refs: OrderedDict[str, np.ndarray | str] = OrderedDict()   # embedding, or why the reference is unusable
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
            return self.failure(("no_reference",), f"{self.name} needs reference audio: pass a voice prompt "
                                                   f"(reference_audio or reference_embedding) or choose another verifier")
        return None

    def _ref_key(self, ctx: VerifyContext) -> str:
        # The audio's hash always: one utterance id may come with two prompts in one sweep (two prompt lengths, ESD's
        # prompt modes), and the first prompt's embedding must not stand in for the second's.
        digest = audio_digest(ctx.reference_audio, ctx.reference_sample_rate)
        return f"key:{ctx.key}|audio:{digest}" if ctx.key is not None else f"audio:{digest}"

    def _reference_audio(self, ctx: VerifyContext) -> np.ndarray | str:
        """The reference at 16 kHz, or a phrase saying what is wrong with it (empty, silent, NaN, too short...)."""
        try:
            x = _audio.prepare(ctx.reference_audio, ctx.reference_sample_rate, self.sample_rate)
        except _audio.AudioInputError as e:
            return str(e)
        flags = _audio.check(x, self.sample_rate, self.min_seconds)
        return _audio.describe(flags, x, self.sample_rate, self.min_seconds) if flags else x

    def _references(self, contexts: list[VerifyContext]) -> list[np.ndarray | str]:
        """One embedding per context (a str: why the reference is unusable); each distinct reference embedded once."""
        todo: dict[str, np.ndarray] = {}
        keys: dict[int, str] = {}     # id(context) -> key: a batch usually repeats one context, hashed once
        for ctx in contexts:
            if ctx.reference_embedding is not None:
                continue
            if id(ctx) not in keys:
                keys[id(ctx)] = self._ref_key(ctx)
            k = keys[id(ctx)]
            if k in self._refs or k in todo:
                continue
            x = self._reference_audio(ctx)
            if isinstance(x, str):
                self._remember(k, x)
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
                e = np.asarray(ctx.reference_embedding, dtype=np.float32).reshape(-1)
                out.append(e if np.all(np.isfinite(e)) else "embedding contains NaN or infinite values")
            else:
                out.append(self._refs[keys[id(ctx)]])
        return out

    def reference_failure(self, ref, cand: np.ndarray) -> VerifierResult | None:
        """Worst score saying which problem the reference has, or None when it can be compared with cand."""
        if isinstance(ref, str):
            return self.failure(("bad_reference",), f"reference {ref}")
        if ref.shape != np.shape(cand):
            return self.failure(("bad_reference",), f"reference embedding has shape {ref.shape}, the model gives "
                                                    f"{np.shape(cand)}: was it made by another model?")
        return None

    def _remember(self, k, e):
        self._refs[k] = e
        while len(self._refs) > self.max_reference_cache:
            self._refs.popitem(last=False)

    def _score_valid(self, waves, contexts):
        refs = self._references(contexts)
        cands = self._embed_batched(waves)
        out = []
        for c, r in zip(cands, refs):
            bad = self.reference_failure(r, c)
            if bad is not None:
                out.append(bad)
                continue
            cos = float(np.clip(np.dot(c, r) / (np.linalg.norm(c) * np.linalg.norm(r) + 1e-12), -1.0, 1.0))
            if not np.isfinite(cos):
                out.append(self.failure(("nan",), "non-finite embedding"))
                continue
            out.append(VerifierResult(score=cos, metrics={"cosine": cos}))
        return out


class SpeakerVerifier(EmbeddingVerifier):
    """Speaker similarity (SIM): cosine of speaker embeddings."""
    kind = "speaker"
