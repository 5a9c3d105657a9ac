"""Emotion from any transformers audio-classification checkpoint (AutoModelForAudioClassification).

Labels come from the checkpoint's config.id2label and are mapped to the canonical set. Embedding for
emotion similarity: mean over valid frames of the last hidden state.
"""
from __future__ import annotations

import numpy as np

from .base import LazyModel
from .emotion_base import EmotionVerifier
from .hf_loading import load_pretrained, torch_dtype
from .registry import register


@register("emotion_hf")
class HFEmotionVerifier(LazyModel, EmotionVerifier):
    """Emotion probability / similarity from a transformers audio-classification model. Worst score -1."""
    packages = (("transformers", "pip install 'transformers>=5.13,<6'"),)
    model_files = ("config.json", ("preprocessor_config.json", "processor_config.json"))

    def __init__(self, model: str, batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self._fe = None

    def _settings(self):
        return {**super()._settings(), "dtype": str(self.dtype)}

    def _load_model(self):
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification
        self._fe = load_pretrained(AutoFeatureExtractor.from_pretrained, self.model_id, "feature extractor")
        m = load_pretrained(AutoModelForAudioClassification.from_pretrained, self.model_id,
                            "audio-classification model", dtype=torch_dtype(self.dtype))
        return m.to(self.device).eval()

    def labels(self):
        cfg = self.load()._model.config
        return [cfg.id2label[i] for i in range(cfg.num_labels)]

    def analyse(self, waves):
        import torch
        self.load()
        inp = self._fe(waves, sampling_rate=16000, padding=True, return_tensors="pt", return_attention_mask=True)
        mask = inp.get("attention_mask")
        inp = {k: v.to(self.device) for k, v in inp.items()}
        inp["input_values"] = inp["input_values"].to(self._model.dtype)
        with torch.no_grad():
            out = self._model(**inp, output_hidden_states=True)
        probs = torch.softmax(out.logits.float(), -1).cpu().numpy()
        h = out.hidden_states[-1].float()
        if mask is not None and hasattr(self._model, "_get_feature_vector_attention_mask"):
            fm = self._model._get_feature_vector_attention_mask(h.shape[1], mask.to(self.device)).unsqueeze(-1).float()
            emb = (h * fm).sum(1) / fm.sum(1).clamp(min=1)
        else:
            emb = h.mean(1)
        return probs, emb.cpu().numpy()
