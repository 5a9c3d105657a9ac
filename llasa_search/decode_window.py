"""Which codes to decode for a candidate's audio: all of it, or (for scoring a partial candidate) only its last
`window` codes plus a short left context.

Why a window: decoding prompt + whole prefix at every search step costs O(L^2) codec work per candidate and decodes
the voice prompt again with every partial candidate. Scoring a speaker or emotion PRM needs only recent audio.

What "receptive field" means for X-codec2's decoder (transformers `Xcodec2Decoder`): the convolutional part is
local: a kernel-7 embedding and four ResNet blocks of two kernel-3 convolutions reach 3 + 4 * 2 = 11 frames (codes)
each side, and the ISTFT head (n_fft = 4 hops) overlaps 2 frames. Two parts are global: the attention layers
(bidirectional, and position-free, since transformers' RoPE positions index heads, not time) and the GroupNorms
of the ResNet blocks, whose statistics span the whole decoded sequence. So no finite context makes a windowed decode
exact; the left context removes the edge effect of the local part, and the rest depends on how much the window's
statistics differ from the whole utterance's. Measured on the tiny codec (benchmarks/bench_codec_window.py): the
edge error falls until about 4 codes of context, then the difference levels off (the global part); the test bounds it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

CODES_PER_SECOND = 50
DEFAULT_WINDOW_SECONDS = 5.0
DEFAULT_CONTEXT_SECONDS = 1.0


@dataclass(frozen=True)
class DecodeWindow:
    """Decode only the last `seconds` of a partial candidate, after `context_seconds` of the codes before them
    (the tail of the prompt when the candidate is shorter than that); the context's audio is cut off."""
    seconds: float = DEFAULT_WINDOW_SECONDS
    context_seconds: float = DEFAULT_CONTEXT_SECONDS

    def __post_init__(self):
        if self.seconds <= 0 or self.context_seconds < 0:
            raise ValueError(f"decode window needs seconds > 0 and context_seconds >= 0, got {self}")

    def split(self, prompt_codes: Sequence[int], codes: Sequence[int]) -> tuple[list[int], list[int]]:
        """(context codes decoded and cut off, codes whose audio is kept)."""
        keep = max(1, round(self.seconds * CODES_PER_SECOND))
        context = round(self.context_seconds * CODES_PER_SECOND)
        stream = list(prompt_codes) + list(codes)
        kept = list(codes[-keep:]) if codes else []
        before = stream[: len(stream) - len(kept)]
        return (before[len(before) - context:] if context else []), kept


def decode_inputs(prompt_codes: Sequence[int], codes: Sequence[int],
                  window: DecodeWindow | None) -> tuple[list[int], list[int]]:
    """(context, kept) for one candidate: the whole prompt in front when `window` is None (the official recipe)."""
    if window is None:
        return list(prompt_codes), list(codes)
    return window.split(prompt_codes, codes)
