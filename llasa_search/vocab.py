"""Llasa's special and speech tokens, with every id looked up in the tokenizer (never hard-coded)."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Official order: these eight follow the 128,256 Llama-3 tokens in the real checkpoints.
LLASA_SPECIAL_TOKENS = (
    "<|TEXT_GENERATION_START|>",
    "<|TEXT_GENERATION_END|>",
    "<|TEXT_UNDERSTANDING_START|>",
    "<|TEXT_UNDERSTANDING_END|>",
    "<|SPEECH_GENERATION_START|>",
    "<|SPEECH_GENERATION_END|>",
    "<|SPEECH_UNDERSTANDING_START|>",
    "<|SPEECH_UNDERSTANDING_END|>",
)
_SPEECH_RE = re.compile(r"^<\|s_(\d+)\|>$")


def speech_token(code: int) -> str:
    return f"<|s_{code}|>"


class VocabularyError(ValueError):
    pass


@dataclass(frozen=True)
class SpeechVocab:
    """Ids the generation code needs. Speech tokens must be contiguous (id = first_speech_id + code),
    which holds for the official tokenizers and the tiny ones; anything else is rejected loudly."""

    text_understanding_start: int
    text_understanding_end: int
    speech_generation_start: int
    speech_generation_end: int
    first_speech_id: int
    codebook_size: int

    @classmethod
    def from_tokenizer(cls, tokenizer) -> "SpeechVocab":
        vocab = tokenizer.get_vocab()
        missing = [t for t in LLASA_SPECIAL_TOKENS if t not in vocab]
        if missing:
            raise VocabularyError(
                f"tokenizer lacks Llasa special tokens {missing}; is this a Llasa checkpoint "
                "(HKUSTAudio/Llasa-1B/3B/8B, or a folder made by `llasa-search make-tiny`)?"
            )
        codes = {}
        for token, idx in vocab.items():
            m = _SPEECH_RE.match(token)
            if m:
                codes[int(m.group(1))] = idx
        if not codes:
            raise VocabularyError("tokenizer has no <|s_N|> speech tokens; not a Llasa tokenizer")
        size = len(codes)
        first = codes.get(0)
        if first is None or any(codes.get(c) != first + c for c in range(size)):
            raise VocabularyError("speech tokens <|s_0|>.. are not contiguous ids; unsupported tokenizer layout")
        return cls(
            text_understanding_start=vocab["<|TEXT_UNDERSTANDING_START|>"],
            text_understanding_end=vocab["<|TEXT_UNDERSTANDING_END|>"],
            speech_generation_start=vocab["<|SPEECH_GENERATION_START|>"],
            speech_generation_end=vocab["<|SPEECH_GENERATION_END|>"],
            first_speech_id=first,
            codebook_size=size,
        )

    def codes_to_ids(self, codes) -> list[int]:
        return [self.first_speech_id + int(c) for c in codes]

    def ids_to_codes(self, ids) -> list[int]:
        """Speech codes of the speech tokens in `ids`; other ids (END, text) are skipped."""
        lo, hi = self.first_speech_id, self.first_speech_id + self.codebook_size
        return [int(i) - lo for i in ids if lo <= int(i) < hi]

    def is_speech(self, token_id: int) -> bool:
        return self.first_speech_id <= token_id < self.first_speech_id + self.codebook_size
