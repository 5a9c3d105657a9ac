"""Speaker similarity with a transformers x-vector model (default microsoft/wavlm-base-plus-sv)."""
from __future__ import annotations

import numpy as np

from .base import LazyModel
from .hf_loading import load_pretrained, torch_dtype
from .registry import register
from .sim_base import SpeakerVerifier


@register("sim_wavlm_xvector")
class WavLMXVectorVerifier(LazyModel, SpeakerVerifier):
    """Speaker cosine with WavLM x-vector (transformers AutoModelForAudioXVector). Worst score -1."""
    packages = (("transformers", "pip install 'transformers>=5.13,<6'"),)
    model_files = ("config.json", ("preprocessor_config.json", "processor_config.json"))

    def __init__(self, model: str = "microsoft/wavlm-base-plus-sv", batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self._fe = None

    def _settings(self):
        return {**super()._settings(), "dtype": str(self.dtype)}

    def _load_model(self):
        from transformers import AutoFeatureExtractor, AutoModelForAudioXVector
        self._fe = load_pretrained(AutoFeatureExtractor.from_pretrained, self.model_id, "feature extractor")
        m = load_pretrained(AutoModelForAudioXVector.from_pretrained, self.model_id, "x-vector model",
                            dtype=torch_dtype(self.dtype))
        return m.to(self.device).eval()

    def embed(self, waves):
        import torch
        self.load()
        # Padded batch + attention mask: the x-vector pooling ignores padded frames. Models whose conv
        # front end uses group norm still see the zeros, so batch and single scores differ slightly (~1e-3);
        # the base class sorts by length to keep padding small.
        inp = self._fe(waves, sampling_rate=16000, padding=True, return_tensors="pt")
        inp = {k: v.to(self.device) for k, v in inp.items()}
        inp["input_values"] = inp["input_values"].to(self._model.dtype)
        with torch.no_grad():
            e = self._model(**inp).embeddings.float()
        e = torch.nn.functional.normalize(e, dim=-1)
        return e.cpu().numpy()
