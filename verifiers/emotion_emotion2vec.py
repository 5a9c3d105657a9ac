"""Emotion with emotion2vec_plus_large through FunASR (the paper's model; optional extra `funasr`).

Nine classes (emotion_labels.EMOTION2VEC_LABELS). Emotion similarity uses the utterance embedding FunASR
returns with extract_embedding=True.
"""
from __future__ import annotations

import numpy as np

from .base import LazyModel
from .emotion_base import EmotionVerifier, softmax_if_needed
from .funasr_loading import check_funasr_model, load_funasr
from .registry import register


@register("emotion2vec")
class Emotion2VecVerifier(LazyModel, EmotionVerifier):
    """emotion2vec_plus_large (FunASR) target-emotion probability or emotion similarity. Worst score -1."""
    packages = (("funasr", "pip install 'llasa-search[funasr]'"),)

    def check_available(self):
        self._require_packages()
        check_funasr_model(self.model_id, self.name)

    def __init__(self, model: str = "iic/emotion2vec_plus_large", batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self._labels: list[str] | None = None

    def _load_model(self):
        return load_funasr(self.model_id, self.device)

    def labels(self):
        if self._labels is None:
            from .emotion_labels import EMOTION2VEC_LABELS
            return list(EMOTION2VEC_LABELS)
        return self._labels

    def analyse(self, waves):
        self.load()
        probs, embs = [], []
        for w in waves:   # FunASR's emotion2vec pipeline takes one clip per call
            r = self._model.generate(w, granularity="utterance", extract_embedding=True)[0]
            self._labels = list(r["labels"])
            probs.append(np.asarray(r["scores"], np.float64))
            embs.append(np.asarray(r["feats"], np.float32).reshape(-1))
        return softmax_if_needed(np.stack(probs)), np.stack(embs)
