"""The loaded Llasa stack (LLM + tokenizer + codec) and the requests it serves.

A request is turned into prompt ids once (prompt audio encoded once); search strategies then work on
token ids and backend states only, and come back here to decode speech codes to audio.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .audio import CODEC_SAMPLE_RATE, load_audio, prepare_audio
from .codec import DEFAULT_CODEC, SpeechCodec
from .decode_window import DecodeWindow, decode_inputs
from .generation import CostLedger, GenerationBackend, SamplingConfig, TransformersBackend
from .model import DEFAULT_MODEL, TINY_ALIAS, LlasaLM
from .prompts import LlasaPrompt, build_prompt_ids, make_prompt


def tiny_models_dir() -> Path:
    home = Path(os.environ.get("LLASA_SEARCH_HOME", Path.home() / ".cache" / "llasa-search"))
    return home / "tiny-v3"  # v3: END boost retuned for the official top_k=50


def ensure_tiny_models() -> dict:
    """Paths of the offline tiny models, made on first use (deterministic, ~5 s)."""
    from .tiny import make_tiny

    root = tiny_models_dir()
    if not (root / "TINY_MODELS.json").exists():
        tmp = root.with_name(root.name + f".tmp-{os.getpid()}")
        make_tiny(tmp)
        try:
            os.replace(tmp, root)
        except OSError:  # another process made it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return {"llm": str(root / "llm"), "codec": str(root / "codec")}


@dataclass
class SynthesisRequest:
    """What to say and, optionally, whose voice. `prompt_wav` (a path) or `prompt_audio` (an array at
    `prompt_sample_rate`) with `prompt_text` clones a voice; `continuation=True` continues the prompt audio
    with `text` covering the whole utterance."""

    text: str
    prompt_text: str | None = None
    prompt_wav: str | None = None
    prompt_audio: np.ndarray | None = None
    prompt_sample_rate: int = CODEC_SAMPLE_RATE
    continuation: bool = False
    language: str = "en"
    target_emotion: str | None = None
    request_id: str | None = None
    reference_audio: np.ndarray | None = None  # audio verifiers compare against (defaults to the prompt audio)


def default_request_ids(requests: Sequence[SynthesisRequest]) -> list[str]:
    """Each request's id: its own `request_id`, else one derived from its content (text, prompt, emotion...), not
    its position, because ids feed the seeds: reordering a batch must not change an utterance. Identical requests
    are numbered in order (#2, #3...): they are interchangeable, so the set of results does not change either."""
    ids, seen = [], {}
    for req in requests:
        if req.request_id is not None:
            ids.append(req.request_id)
            continue
        audio = req.prompt_audio
        content = {"text": req.text, "prompt_text": req.prompt_text, "prompt_wav": req.prompt_wav,
                   "prompt_audio": None if audio is None else hashlib.sha1(np.ascontiguousarray(audio)).hexdigest(),
                   "rate": req.prompt_sample_rate, "continuation": req.continuation, "language": req.language,
                   "emotion": req.target_emotion}
        rid = "r" + hashlib.sha1(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
        seen[rid] = seen.get(rid, 0) + 1
        ids.append(rid if seen[rid] == 1 else f"{rid}#{seen[rid]}")
    return ids


@dataclass
class PreparedRequest:
    index: int
    request_id: str
    request: SynthesisRequest
    prompt: LlasaPrompt
    prompt_ids: list[int]
    prompt_audio: np.ndarray | None = None  # 16 kHz mono, checked
    extra: dict = field(default_factory=dict)

    @property
    def prompt_codes(self) -> list[int]:
        return self.prompt.prompt_codes

    @property
    def reference_audio(self) -> np.ndarray | None:
        ref = self.request.reference_audio
        return ref if ref is not None else self.prompt_audio


class LlasaEngine:
    def __init__(self, lm: LlasaLM, codec: SpeechCodec, sampling: SamplingConfig | None = None,
                 max_batch_rows: int | None = None):
        if lm.vocab.codebook_size != codec.codebook_size:
            raise ValueError(
                f"model has {lm.vocab.codebook_size} speech tokens but the codec has {codec.codebook_size} codes; "
                "use the codec that belongs to this model"
            )
        self.lm, self.codec = lm, codec
        self.sampling = sampling or SamplingConfig()
        self.max_batch_rows = max_batch_rows  # LM rows per forward; None = all at once

    @classmethod
    def load(cls, model: str = DEFAULT_MODEL, codec: str = DEFAULT_CODEC, device: str | None = None,
             dtype="auto", attn_implementation: str | None = None,
             sampling: SamplingConfig | None = None, max_batch_rows: int | None = None) -> "LlasaEngine":
        if TINY_ALIAS in (model, codec):
            tiny = ensure_tiny_models()
            model = tiny["llm"] if model == TINY_ALIAS else model
            codec = tiny["codec"] if codec == TINY_ALIAS else codec
        lm = LlasaLM.load(model, device=device, dtype=dtype, attn_implementation=attn_implementation)
        return cls(lm, SpeechCodec.load(codec, device=lm.device), sampling, max_batch_rows)

    @property
    def max_length(self) -> int:
        return self.lm.max_length

    def new_backend(self, ledger: CostLedger | None = None, sampling: SamplingConfig | None = None) -> GenerationBackend:
        """The one place that chooses a backend implementation; everything above sees the protocol."""
        return TransformersBackend(self.lm.model, self.lm.vocab, sampling or self.sampling, ledger, self.max_length,
                                 max_batch_rows=self.max_batch_rows)

    def prepare(self, requests: Sequence[SynthesisRequest]) -> list[PreparedRequest]:
        prepared = []
        for i, (req, rid) in enumerate(zip(requests, default_request_ids(requests))):
            audio = None
            if req.prompt_wav is not None and req.prompt_audio is not None:
                raise ValueError(f"request {req.request_id or i}: give prompt_wav or prompt_audio, not both")
            if req.prompt_wav is not None:
                audio = load_audio(req.prompt_wav)
            elif req.prompt_audio is not None:
                audio = prepare_audio(req.prompt_audio, req.prompt_sample_rate)
            codes = self.codec.encode(audio, check=False) if audio is not None else []
            prompt = make_prompt(req.text, req.prompt_text, codes, continuation=req.continuation)
            ids = build_prompt_ids(self.lm.tokenizer, self.lm.vocab, prompt, self.max_length, req.language)
            prepared.append(PreparedRequest(i, rid, req, prompt, ids, audio))
        return prepared

    def speech_codes(self, generated_ids: Sequence[int]) -> list[int]:
        return self.lm.vocab.ids_to_codes(generated_ids)

    def decode(self, items: Sequence[tuple[PreparedRequest, Sequence[int]]],
               windows: Sequence[DecodeWindow | None] | None = None) -> list[np.ndarray]:
        """Decode (request, generated speech codes) pairs; for cloning/continuation the prompt's codes are
        decoded in front and their audio removed. `windows[i]` (partial scoring) decodes only the candidate's last
        seconds after a short context (decode_window.py). Costs are the caller's to charge (SearchContext.decode
        charges the search's ledger; the codec's counters include every code decoded, context included)."""
        windows = [None] * len(items) if windows is None else list(windows)
        plans = [decode_inputs(req.prompt_codes, codes, w) for (req, codes), w in zip(items, windows)]
        return self.codec.decode([kept for _, kept in plans], [context for context, _ in plans])
