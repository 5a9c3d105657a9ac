"""Emotion verifiers. Two scores, chosen per candidate by its context:

- target_emotion given: score = model probability of that emotion (0..1); labels are mapped to the
  canonical set of emotion_labels; an emotion the model cannot output gives flag "unknown_emotion". With a
  reference too, metrics["emotion_sim"] holds the cosine below (the paper's emotion similarity, what reports show).
- otherwise, reference audio/embedding: score = cosine of the emotion representation of candidate and
  reference (the paper's "emotion similarity"); `similarity="embedding"` (model's utterance embedding) or
  "probs" (class-probability vectors).
Worst score -1.0 (below every valid score of both kinds). Partial audio is judged like whole audio.
"""
from __future__ import annotations

from abc import abstractmethod

import numpy as np

from .base import VerifierResult
from .emotion_labels import canonical
from .sim_base import EmbeddingVerifier


def softmax_if_needed(x: np.ndarray) -> np.ndarray:
    """Rows that already are probabilities stay; log-probabilities are exponentiated; logits soft-maxed."""
    x = np.asarray(x, dtype=np.float64)
    if np.all(x >= 0) and np.allclose(x.sum(-1), 1, atol=1e-3):
        return x
    if np.all(x <= 0) and np.allclose(np.exp(x).sum(-1), 1, atol=1e-3):
        return np.exp(x)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class EmotionVerifier(EmbeddingVerifier):
    kind = "emotion"

    def __init__(self, similarity: str = "embedding", **kw):
        super().__init__(**kw)
        if similarity not in ("embedding", "probs"):
            raise ValueError("similarity must be 'embedding' or 'probs'")
        self.similarity = similarity

    @abstractmethod
    def labels(self) -> list[str]:
        """The model's own label names, in output order (loads the model if needed)."""

    @abstractmethod
    def analyse(self, waves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """16 kHz waveforms -> (probabilities (n, C) in labels() order, embeddings (n, D))."""

    def _settings(self):
        # metrics 2: emotion_sim beside a target's probability (results cached before it lack that column)
        return {"similarity": self.similarity, "metrics": 2}

    def embed(self, waves):
        probs, emb = self.analyse(waves)
        return probs if self.similarity == "probs" else emb

    def _precheck(self, ctx):
        if ctx.target_emotion is None and ctx.reference_embedding is None and ctx.reference_audio is None:
            return self.failure(("no_target",), f"{self.name} needs a target emotion (target_emotion) or reference "
                                                f"audio to compare with")
        return None

    def _score_valid(self, waves, contexts):
        probs, emb = self.analyse(waves)
        names = self.labels()
        canon = [canonical(n) for n in names]
        out: list[VerifierResult | None] = [None] * len(waves)
        # Emotion similarity wherever there is a reference, also beside a target emotion's probability: the paper's
        # "emotion similarity" is this cosine (metrics["emotion_sim"], what report tables show).
        sim_idx = [i for i, c in enumerate(contexts) if c.reference_embedding is not None or c.reference_audio is not None]
        emotion_sim: dict[int, float] = {}
        if sim_idx:
            refs = self._references([contexts[i] for i in sim_idx])
            rep = probs if self.similarity == "probs" else emb
            for i, r in zip(sim_idx, refs):
                c = rep[i]
                bad = self.reference_failure(r, c)
                cos = np.nan if bad is not None else np.dot(c, r) / (np.linalg.norm(c) * np.linalg.norm(r) + 1e-12)
                if contexts[i].target_emotion is not None:   # scored by the target's probability below
                    if np.isfinite(cos):
                        emotion_sim[i] = float(np.clip(cos, -1.0, 1.0))
                    continue
                if bad is not None:
                    out[i] = bad
                elif not np.isfinite(cos):
                    out[i] = self.failure(("nan",), "non-finite emotion representation")
                else:
                    out[i] = VerifierResult(float(np.clip(cos, -1.0, 1.0)), {})
                    emotion_sim[i] = out[i].score
        for i, ctx in enumerate(contexts):
            if out[i] is None and not np.all(np.isfinite(probs[i])):
                out[i] = self.failure(("nan",), "the model gave non-finite emotion probabilities")
                continue
            if out[i] is not None and "nan" in out[i].flags:
                continue
            p = {n: float(v) for n, v in zip(names, probs[i])}
            top = names[int(np.argmax(probs[i]))]
            if out[i] is None:
                want = canonical(ctx.target_emotion)
                hits = [j for j, cn in enumerate(canon) if cn is not None and cn == want]
                if not hits:
                    out[i] = self.failure(("unknown_emotion",), f"{ctx.target_emotion!r} not among {names}",
                                          probs=p, top=top)
                    continue
                out[i] = VerifierResult(float(probs[i, hits].sum()), {"target": want})
            else:
                out[i].metrics.setdefault("cosine", out[i].score)
            out[i].metrics.update(probs=p, top=top, top_canonical=canonical(top))
            if i in emotion_sim and out[i].ok:
                out[i].metrics["emotion_sim"] = emotion_sim[i]
        return out  # type: ignore[return-value]
