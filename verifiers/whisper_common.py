"""What the Whisper verifiers (transformers and CTranslate2) share: language names and the compute estimate."""
from __future__ import annotations

# Seed-TTS-eval passes full language names; Whisper accepts codes and names alike.
LANGUAGE_NAMES = {"en": "english", "zh": "chinese"}

# The decoder runs once per output token: English speech is about 2.5-3 words/s, ~1.3 tokens a word.
DECODER_TOKENS_PER_SECOND = 4.0
ENCODER_FRAMES_PER_SECOND = 50.0     # 1500 encoder frames per 30 s window

# openai/whisper-large-v3 (the evaluation model; Systran/faster-whisper-large-v3 is the same weights).
LARGE_V3_PARAMS = (6.35e8, 9.07e8)   # (encoder, decoder)


WINDOW_SECONDS = 30.0


def whisper_flops(encoder_params: float | None, decoder_params: float | None) -> float | None:
    """Forward FLOPs per second of audio at the native frame rate (2 per parameter per frame or token).
    Whisper always encodes a whole 30 s window, so a clip of d seconds costs the encoder 30/d times this share:
    `whisper_clip_flops` is what one clip costs."""
    if not encoder_params or not decoder_params:
        return None
    return 2.0 * (encoder_params * ENCODER_FRAMES_PER_SECOND + decoder_params * DECODER_TOKENS_PER_SECOND)


def whisper_clip_flops(encoder_params: float | None, decoder_params: float | None, seconds: float) -> float | None:
    """Forward FLOPs of transcribing one clip: the encoder runs over the whole 30 s window whatever the clip's
    length (both Whisper verifiers pad to it; longer clips are truncated to it), the decoder once per output token
    of the speech actually there."""
    if not encoder_params or not decoder_params:
        return None
    heard = min(max(float(seconds), 0.0), WINDOW_SECONDS)
    return 2.0 * (encoder_params * ENCODER_FRAMES_PER_SECOND * WINDOW_SECONDS
                  + decoder_params * DECODER_TOKENS_PER_SECOND * heard)


class WhisperCost:
    """flops_per_second / flops_per_clip of a Whisper verifier from its (encoder, decoder) parameter counts."""

    def _whisper_params(self) -> tuple[float | None, float | None]:
        raise NotImplementedError

    def flops_per_second(self):
        return whisper_flops(*self._whisper_params())

    def flops_per_clip(self, seconds: float):
        return whisper_clip_flops(*self._whisper_params(), seconds)


def by_language(contexts) -> dict[str, list[int]]:
    """Clip indices per language code ("en-US" -> "en"): Whisper forces one language per generate call."""
    out: dict[str, list[int]] = {}
    for i, c in enumerate(contexts):
        out.setdefault(c.language.split("-")[0].lower(), []).append(i)
    return out
