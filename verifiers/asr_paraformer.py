"""Chinese content verifier on FunASR paraformer-zh (Seed-TTS-eval's Chinese ASR). score = -CER.

Optional extra: pip install funasr. As run_wer.py, the hypothesis is simplified with zhconv (done by the
normaliser) and CER is the character-split WER.
"""
from __future__ import annotations

from .base import LazyModel
from .asr_base import ContentVerifier
from .funasr_loading import check_funasr_model, load_funasr
from .registry import register


@register("paraformer_zh")
class ParaformerVerifier(LazyModel, ContentVerifier):
    """FunASR paraformer-zh ASR + Seed-TTS-eval CER (optional extra `funasr`)."""
    languages = ("zh",)
    packages = (("funasr", "pip install 'llasa-search[funasr]'"),)
    frames_per_second = 1000 / 60    # low-frame-rate features: one frame per 60 ms

    def check_available(self):
        self._require_packages()
        check_funasr_model(self.model_id, self.name)

    def __init__(self, model: str = "paraformer-zh", batch_size: int = 16, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)

    def _load_model(self):
        return load_funasr(self.model_id, self.device)

    def transcribe(self, waves, contexts):
        self.load()
        res = self._model.generate(input=list(waves), batch_size_s=300)
        return [r.get("text", "") for r in res]
