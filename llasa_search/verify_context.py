"""The one place a verifiers.VerifyContext is built from a request's fields (reference audio at the codec's rate)."""
from __future__ import annotations

from .audio import CODEC_SAMPLE_RATE


def verify_context(text: str | None, reference_audio=None, language: str = "en", target_emotion: str | None = None,
                   key: str | None = None, partial: bool = False, expected_fraction: float | None = None,
                   sample_rate: int = CODEC_SAMPLE_RATE):
    from verifiers import VerifyContext

    return VerifyContext(text=text, language=language, reference_audio=reference_audio,
                         reference_sample_rate=sample_rate, target_emotion=target_emotion, partial=partial,
                         expected_fraction=expected_fraction, key=key)
