"""Result caching: the same audio, context and verifier settings are scored once.

Key = sha1(verifier identity, sha1 of the audio's float32 bytes + shape + sample rate, context digest).
Memory always; with `directory`, also an sqlite file there so results survive across runs and processes.
Results flagged "error" are not cached (they may be transient, e.g. out of memory). Paths are read here, once:
the key hashes the decoded audio. A clip that cannot be read or hashed gets its failure without stopping the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import fields
from typing import Sequence

import numpy as np

from . import audio as _audio
from .base import Verifier, VerifierResult, VerifyContext, as_batch


def array_digest(x, sample_rate: int | None = None) -> str:
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    h = hashlib.sha1(a.tobytes())
    h.update(repr((a.shape, sample_rate)).encode())
    return h.hexdigest()


def audio_digest(x, sample_rate: int | None = None) -> str:
    """array_digest of an array; of a path, the file's bytes (a changed file gets a new digest)."""
    if _audio.is_path(x):
        with open(os.fspath(x), "rb") as f:
            return "file:" + hashlib.sha1(f.read()).hexdigest()
    return array_digest(x, sample_rate)


def context_digest(ctx: VerifyContext) -> str:
    d = {}
    for f in fields(ctx):
        v = getattr(ctx, f.name)
        if isinstance(v, np.ndarray) or (f.name in ("reference_audio", "reference_embedding") and v is not None):
            v = audio_digest(v, ctx.reference_sample_rate if f.name == "reference_audio" else None)
        d[f.name] = v
    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()


def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


def _dump(r: VerifierResult) -> str:
    return json.dumps({"score": r.score, "metrics": _jsonable(r.metrics), "ok": r.ok,
                       "flags": list(r.flags), "error": r.error})


def _load(s: str) -> VerifierResult:
    d = json.loads(s)
    return VerifierResult(d["score"], d["metrics"], d["ok"], tuple(d["flags"]), d["error"])


class ResultCache:
    """Key -> serialised VerifierResult, in memory and optionally in `directory`/verifier_cache.sqlite."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self._mem: dict[str, str] = {}
        self._db = None
        self._lock = threading.Lock()
        if directory is not None:
            os.makedirs(directory, exist_ok=True)
            self.path = os.path.join(directory, "verifier_cache.sqlite")
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> VerifierResult | None:
        s = self._mem.get(key)
        if s is None and self._db is not None:
            with self._lock:
                row = self._db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
            if row is not None:
                s = self._mem[key] = row[0]
        return None if s is None else _load(s)  # a fresh object: callers may mutate it

    def put_many(self, items: list[tuple[str, VerifierResult]]):
        rows = [(k, _dump(r)) for k, r in items]
        self._mem.update(rows)
        if self._db is not None and rows:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)", rows)
                self._db.commit()

    def __len__(self):
        return len(self._mem)

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None


class CachedVerifier(Verifier):
    """Wraps a verifier; misses of one call are scored together as one batch (one per sample rate)."""

    def __init__(self, verifier: Verifier, cache: ResultCache | None = None):
        self.inner = verifier
        self.cache = cache if cache is not None else ResultCache()
        self.name = verifier.name
        for attr in ("kind", "supports_partial", "partial_audio", "min_score_seconds", "worst_score"):
            setattr(self, attr, getattr(verifier, attr))
        self.hits = self.misses = 0
        self._id = hashlib.sha1(json.dumps(verifier.identity(), sort_keys=True, default=str).encode()).hexdigest()

    def identity(self) -> dict:
        return self.inner.identity()

    def can_judge(self, ctx):
        return self.inner.can_judge(ctx)

    def check_available(self):
        return self.inner.check_available()

    def flops_per_second(self):
        return self.inner.flops_per_second()

    def flops_per_clip(self, seconds: float):
        return self.inner.flops_per_clip(seconds)

    def key(self, wave, sample_rate: int, ctx: VerifyContext) -> str:
        return hashlib.sha1(f"{self._id}|{array_digest(wave, sample_rate)}|{context_digest(ctx)}".encode()).hexdigest()

    def score(self, waveforms: Sequence[np.ndarray], sample_rate: int | None, contexts: Sequence[VerifyContext]):
        waveforms, contexts = as_batch(waveforms, contexts)
        results: list[VerifierResult | None] = [None] * len(waveforms)
        keys: dict[int, str] = {}
        audio: dict[int, tuple[np.ndarray, int]] = {}
        for i, (w, c) in enumerate(zip(waveforms, contexts)):
            try:   # per clip: a path that cannot be read or a value that cannot be hashed fails alone
                a, sr = _audio.read_input(w, sample_rate)
                keys[i] = self.key(a, sr, c)
            except _audio.AudioInputError as e:
                results[i] = self.failure((e.flag,), str(e))
                continue
            except Exception as e:
                results[i] = self.failure(("error",), f"bad audio or context: {type(e).__name__}: {e}")
                continue
            audio[i] = (a, sr)
            results[i] = self.cache.get(keys[i])
        miss = [i for i in keys if results[i] is None]
        self.hits += len(keys) - len(miss)
        self.misses += len(miss)
        by_rate: dict[int, list[int]] = {}
        for i in miss:
            by_rate.setdefault(audio[i][1], []).append(i)
        for sr, idx in by_rate.items():
            fresh = self.inner.score([audio[i][0] for i in idx], sr, [contexts[i] for i in idx])
            for i, r in zip(idx, fresh):
                results[i] = r
            self.cache.put_many([(keys[i], r) for i, r in zip(idx, fresh) if "error" not in r.flags])
        return results  # type: ignore[return-value]

    def __getattr__(self, item):  # load(), options etc. of the wrapped verifier
        if item == "inner":
            raise AttributeError(item)
        return getattr(self.inner, item)


def cached(verifier: Verifier, directory: str | os.PathLike | None = None) -> CachedVerifier:
    return CachedVerifier(verifier, ResultCache(directory))
