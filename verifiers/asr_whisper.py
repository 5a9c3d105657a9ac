"""Content verifier on Whisper through transformers (default openai/whisper-large-v3). score = -WER.

As Seed-TTS-eval's run_wer.py: the language is forced (task "transcribe"), greedy decoding, the processor's
log-mel features (30 s window: longer clips are truncated, flagged "truncated_30s"), special tokens dropped.
Batching pads every clip to the same 30 s window Whisper always uses, so batch and single scores agree.
This is the evaluation path (protocol parity); for search, `ctc` or `faster_whisper` are much cheaper.
"""
from __future__ import annotations

from .asr_base import ContentVerifier
from .availability import model_params
from .base import LazyModel
from .hf_loading import load_pretrained, torch_dtype
from .registry import register
from .whisper_common import LANGUAGE_NAMES, LARGE_V3_PARAMS, WhisperCost, by_language

DEFAULT_MODEL = "openai/whisper-large-v3"


@register("whisper")
class WhisperVerifier(WhisperCost, LazyModel, ContentVerifier):
    """Whisper ASR (transformers, language forced) + Seed-TTS-eval WER."""
    packages = (("transformers", "pip install 'transformers>=5.13,<6'"),)
    model_files = ("config.json", ("preprocessor_config.json", "processor_config.json"),
                   ("tokenizer.json", "vocab.json"))
    window_seconds = 30.0

    def __init__(self, model: str = DEFAULT_MODEL, num_beams: int = 1, max_new_tokens: int = 440,
                 batch_size: int = 8, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self.num_beams = num_beams
        self.max_new_tokens = max_new_tokens
        self._processor = None

    def _settings(self):
        return {**super()._settings(), "num_beams": self.num_beams,
                "max_new_tokens": self.max_new_tokens, "dtype": str(self.dtype)}

    def _load_model(self):
        from transformers import WhisperForConditionalGeneration, WhisperProcessor
        self._processor = load_pretrained(WhisperProcessor.from_pretrained, self.model_id, "Whisper processor")
        model = load_pretrained(WhisperForConditionalGeneration.from_pretrained, self.model_id, "Whisper model",
                                dtype=torch_dtype(self.dtype))
        return model.to(self.device).eval()

    def _whisper_params(self):
        if self._model is not None:
            count = lambda m: float(sum(p.numel() for p in m.parameters()))  # noqa: E731
            return count(self._model.model.encoder), count(self._model.model.decoder)
        enc, dec = model_params(self.model_id, "model.encoder."), model_params(self.model_id, "model.decoder.")
        if not enc and self.model_id == DEFAULT_MODEL:
            enc, dec = LARGE_V3_PARAMS
        return enc, dec

    def transcribe(self, waves, contexts):
        import torch
        self.load()
        out: list[str | None] = [None] * len(waves)
        for lang, idx in by_language(contexts).items():
            feats = self._processor.feature_extractor([waves[i] for i in idx], sampling_rate=16000,
                                                      return_tensors="pt").input_features
            feats = feats.to(self.device, dtype=self._model.dtype)
            with torch.no_grad():
                ids = self._model.generate(feats, language=LANGUAGE_NAMES.get(lang, lang), task="transcribe",
                                           num_beams=self.num_beams, do_sample=False,
                                           max_new_tokens=self.max_new_tokens)
            for i, text in zip(idx, self._processor.batch_decode(ids, skip_special_tokens=True)):
                out[i] = text.strip()
        return out  # type: ignore[return-value]
