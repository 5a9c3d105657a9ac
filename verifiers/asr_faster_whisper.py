"""Content verifier on Whisper through CTranslate2 (faster-whisper): batched greedy decoding. score = -WER.

Optional extra: pip install 'llasa-search[fast]' (faster-whisper). Default model "large-v3" (Systran's conversion of
openai/whisper-large-v3, the evaluation model); any CTranslate2 Whisper folder works, e.g. one converted with
`ct2-transformers-converter --model openai/whisper-large-v3 --output_dir DIR --copy_files tokenizer.json
preprocessor_config.json`.

Kept as the transformers path does it (protocol parity): the same log-mel features (transformers'
WhisperFeatureExtractor on the clip padded to the 30 s window), the decoder prompt <|startoftranscript|><|lang|>
<|transcribe|><|notimestamps|> with the language forced, greedy decoding, the checkpoint's suppressed tokens,
special tokens dropped. What differs is the runtime: one CTranslate2 `generate` call per batch (int8/float16
kernels with compute_type), several times faster than transformers' generate.
"""
from __future__ import annotations

import os

import numpy as np

from .asr_base import ContentVerifier
from .availability import model_params
from .base import LazyModel
from .hf_loading import resolve_folder
from .registry import register
from .whisper_common import LANGUAGE_NAMES, LARGE_V3_PARAMS, WhisperCost, by_language

# faster-whisper's size names -> CTranslate2 conversions on the hub.
SIZES = {s: f"Systran/faster-whisper-{s}" for s in ("tiny", "base", "small", "medium", "large-v1", "large-v2",
                                                     "large-v3")}
SIZES.update({"large": SIZES["large-v3"], "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
              "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
              "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo"})
_CODES = {v: k for k, v in LANGUAGE_NAMES.items()}


@register("faster_whisper")
class FasterWhisperVerifier(WhisperCost, LazyModel, ContentVerifier):
    """Whisper via faster-whisper/CTranslate2, batched greedy, language forced + Seed-TTS-eval WER (extra `fast`)."""
    packages = (("faster_whisper", "pip install 'llasa-search[fast]' (faster-whisper)"),)
    model_files = ("model.bin", "config.json", "tokenizer.json")
    window_seconds = 30.0

    def __init__(self, model: str = "large-v3", compute_type: str = "default", max_new_tokens: int = 440,
                 batch_size: int = 16, cpu_threads: int = 0, **kw):
        super().__init__(batch_size=batch_size, **kw)
        self._init_model(model)
        self.compute_type = compute_type
        self.max_new_tokens = max_new_tokens
        self.cpu_threads = cpu_threads
        self._features = None

    @property
    def repo(self) -> str:
        return SIZES.get(self.model_id, self.model_id)

    def _settings(self):
        return {**super()._settings(), "compute_type": self.compute_type, "max_new_tokens": self.max_new_tokens}

    def check_available(self):
        from .availability import require_model
        self._require_packages()
        require_model(self.repo, self.model_files, self.name)

    def _load_model(self):
        from faster_whisper import WhisperModel
        from transformers import WhisperFeatureExtractor
        folder = resolve_folder(self.repo, "CTranslate2 Whisper model")
        model = WhisperModel(folder, device=self.device, compute_type=self.compute_type, cpu_threads=self.cpu_threads)
        n_mels = model.model.n_mels
        pre = os.path.join(folder, "preprocessor_config.json")
        self._features = (WhisperFeatureExtractor.from_pretrained(folder) if os.path.isfile(pre)
                          else WhisperFeatureExtractor(feature_size=n_mels))
        if self._features.feature_size != n_mels:
            raise ValueError(f"{folder}: preprocessor_config.json gives {self._features.feature_size} mel bins, "
                             f"the model takes {n_mels}")
        return model

    def _whisper_params(self):
        enc, dec = model_params(self.repo, "model.encoder."), model_params(self.repo, "model.decoder.")
        if not enc and self.repo == SIZES["large-v3"]:
            enc, dec = LARGE_V3_PARAMS
        return enc, dec

    def _prompt(self, language: str) -> list[int]:
        tok = self._model.hf_tokenizer
        lang = _CODES.get(language, language)
        names = ["<|startoftranscript|>", f"<|{lang}|>", "<|transcribe|>", "<|notimestamps|>"]
        ids = [tok.token_to_id(n) for n in names]
        if any(i is None for i in ids):
            missing = [n for n, i in zip(names, ids) if i is None]
            raise ValueError(f"{self.model_id}: tokenizer has no {missing} (language {language!r} not supported?)")
        return ids

    def transcribe(self, waves, contexts):
        import ctranslate2
        self.load()
        out: list[str | None] = [None] * len(waves)
        tok = self._model.hf_tokenizer
        eot = tok.token_to_id("<|endoftext|>")
        for lang, idx in by_language(contexts).items():
            feats = self._features([waves[i] for i in idx], sampling_rate=16000, return_tensors="np").input_features
            prompt = self._prompt(lang)
            max_length = min(len(prompt) + self.max_new_tokens, self._model.max_length)
            res = self._model.model.generate(
                ctranslate2.StorageView.from_array(np.ascontiguousarray(feats, dtype=np.float32)),
                [prompt] * len(idx), beam_size=1, max_length=max_length, suppress_blank=True, suppress_tokens=[-1],
                return_scores=False)
            for i, r in zip(idx, res):
                out[i] = tok.decode([t for t in r.sequences_ids[0] if t < eot]).strip()
        return out  # type: ignore[return-value]
