"""Emotion with speechbrain (default speechbrain/emotion-recognition-wav2vec2-IEMOCAP: neu/ang/hap/sad).

Any speechbrain folder whose interface has classify_batch/encode_batch and a label_encoder works.
classify_batch's output (log-probabilities for the IEMOCAP model) is turned into probabilities.
"""
from __future__ import annotations

import numpy as np

from .base import LazyModel
from .emotion_base import EmotionVerifier, softmax_if_needed
from .registry import register
from .sb_loading import load_encoder_classifier


@register("emotion_speechbrain")
class SpeechBrainEmotionVerifier(LazyModel, EmotionVerifier):
    """Emotion probability / similarity from a speechbrain classifier. Worst score -1."""
    packages = (("speechbrain", "pip install 'llasa-search[speechbrain]'"),)
    model_files = ("hyperparams.yaml",)

    def __init__(self, model: str = "speechbrain/emotion-recognition-wav2vec2-IEMOCAP", batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)

    def _load_model(self):
        return load_encoder_classifier(self.model_id, self.device)

    def labels(self):
        enc = self.load()._model.hparams.label_encoder
        return [enc.ind2lab[i] for i in range(len(enc.ind2lab))]

    def analyse(self, waves):
        import torch
        self.load()
        lens = np.array([w.size for w in waves])
        batch = np.zeros((len(waves), lens.max()), np.float32)
        for i, w in enumerate(waves):
            batch[i, :w.size] = w
        x = torch.from_numpy(batch).to(self.device)
        rel = torch.from_numpy(lens / lens.max()).float().to(self.device)
        with torch.no_grad():
            out_prob = self._model.classify_batch(x, rel)[0]
            emb = self._model.encode_batch(x, rel)
        probs = softmax_if_needed(out_prob.reshape(len(waves), -1).float().cpu().numpy())
        return probs, emb.reshape(len(waves), -1).float().cpu().numpy()
