"""Cheap search-time content verifier: a CTC ASR model through transformers (Wav2Vec2ForCTC, HubertForCTC, ...).
score = -WER under the same Seed-TTS-eval normalisation as the Whisper evaluation path.

Default facebook/hubert-large-ls960-ft (316 M parameters, common in TTS evaluation; English, upper-case letters).
One encoder pass, greedy CTC decoding, no autoregressive decoder and no 30 s window: a clip costs its own length.
Clips are batched in length buckets (`max_padding`: padding at most that share of a batch's real samples). With an
attention mask (models with layer-norm feature extractors, like HuBERT-large) batching barely changes the logits;
models whose processor returns no attention mask (group-norm front ends, e.g. wav2vec2-base-960h) see the padding,
so keep `max_padding` small for them.
"""
from __future__ import annotations

import numpy as np

from .asr_base import ContentVerifier
from .base import LazyModel
from .hf_loading import load_pretrained, torch_dtype
from .registry import register

DEFAULT_MODEL = "facebook/hubert-large-ls960-ft"


@register("ctc")
class CTCVerifier(LazyModel, ContentVerifier):
    """CTC ASR (transformers Wav2Vec2/HuBERT ForCTC, default hubert-large-ls960-ft) + Seed-TTS-eval WER: fast."""
    packages = (("transformers", "pip install 'transformers>=5.13,<6'"),)
    model_files = ("config.json", ("preprocessor_config.json", "processor_config.json"), "vocab.json")

    def __init__(self, model: str = DEFAULT_MODEL, languages: tuple[str, ...] | None = ("en",),
                 max_padding: float | str | None = "auto", batch_size: int = 16, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self.languages = tuple(languages) if languages else None
        self._max_padding = max_padding
        self._processor = None
        self.audio_samples = self.padded_samples = 0    # what the model was fed: real vs padding

    @property
    def max_padding(self) -> float | None:
        """"auto": 0.25 when the model masks padding (attention mask), else 0 (only equal lengths share a batch)."""
        if self._max_padding == "auto":
            return 0.25 if self._uses_mask() else 0.0
        return self._max_padding

    def _uses_mask(self) -> bool:
        return bool(getattr(self.load()._processor.feature_extractor, "return_attention_mask", False))

    def _settings(self):
        return {**super()._settings(), "dtype": str(self.dtype), "max_padding": self._max_padding}

    def _load_model(self):
        from transformers import AutoModelForCTC, AutoProcessor
        self._processor = load_pretrained(AutoProcessor.from_pretrained, self.model_id, "CTC processor")
        model = load_pretrained(AutoModelForCTC.from_pretrained, self.model_id, "CTC model",
                                dtype=torch_dtype(self.dtype))
        return model.to(self.device).eval()

    def logits(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        """Per clip (frames, vocab) logits over its own frames only (padding frames dropped)."""
        import torch
        self.load()
        fe = self._processor.feature_extractor
        use_mask = self._uses_mask()
        inp = fe(waves, sampling_rate=16000, padding=True, return_tensors="pt", return_attention_mask=use_mask)
        x = inp["input_values"].to(self.device, dtype=self._model.dtype)
        lens = [w.size for w in waves]
        self.audio_samples += sum(lens)
        self.padded_samples += x.shape[0] * x.shape[1] - sum(lens)
        kwargs = {"attention_mask": inp["attention_mask"].to(self.device)} if use_mask else {}
        with torch.no_grad():
            out = self._model(x, **kwargs).logits.float()
        frames = self._model._get_feat_extract_output_lengths(torch.tensor(lens)).tolist()
        return [out[i, :n].cpu().numpy() for i, n in enumerate(frames)]

    def transcribe(self, waves, contexts):
        ids = [lg.argmax(-1).tolist() for lg in self.logits(waves)]
        return [t.strip() for t in self._processor.tokenizer.batch_decode(ids)]
