"""The partial-decoding window as options of the tree strategies (beam, dvts, staged).

A live candidate scored by a window-type PRM (speaker, emotion) is decoded from its last `partial_window_s`
seconds after `partial_context_s` seconds of left context (decode_window.py); `partial_window_s` 0 or null decodes
the prompt and the whole prefix, as the official recipe decodes a finished utterance. Content (ASR) PRMs always
get the whole prefix. A window shorter than the audio the PRM needs (`min_score_seconds`) would leave every
partial candidate unscored, so it is refused before anything is generated.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..decode_window import DEFAULT_CONTEXT_SECONDS, DEFAULT_WINDOW_SECONDS, DecodeWindow
from ..errors import ConfigError
from .base import StrategyConfig


@dataclass
class TreeConfig(StrategyConfig):
    partial_window_s: float | None = DEFAULT_WINDOW_SECONDS   # 0 / null: prompt + whole prefix
    partial_context_s: float = DEFAULT_CONTEXT_SECONDS

    def validate(self):
        if self.partial_window_s is not None and self.partial_window_s < 0:
            raise ConfigError(f"partial_window_s must be >= 0 seconds (got {self.partial_window_s}); 0 or null "
                              "decodes the whole prefix")
        if self.partial_context_s < 0:
            raise ConfigError(f"partial_context_s must be >= 0 seconds (got {self.partial_context_s})")

    def decode_window(self) -> DecodeWindow | None:
        if not self.partial_window_s:
            return None
        return DecodeWindow(float(self.partial_window_s), float(self.partial_context_s))


def check_window_fits(window: DecodeWindow | None, prm_name: str, prm, min_seconds: float) -> None:
    """The PRM must be able to judge the audio the window gives it (content PRMs get the whole prefix)."""
    from .context import needs_prefix

    if window is None or needs_prefix(prm) or window.seconds >= min_seconds:
        return
    raise ConfigError(f"partial_window_s={window.seconds:g} is shorter than the {min_seconds:g} s of audio the PRM "
                      f"{prm_name!r} needs to judge (min_score_seconds): every partial candidate would go unscored; "
                      f"give partial_window_s >= {min_seconds:g} (or 0 for the whole prefix)")
