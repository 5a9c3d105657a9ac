"""One place where every cost of a search is counted, so strategies can be compared at equal compute.

A batch ledger counts what was really computed. A per-utterance ledger counts what that utterance cost as if it ran
alone: its own tokens, codec and verifier seconds exactly, its whole prompt even when an identical prompt was
prefilled once for several utterances, and `lm_calls` / `codec_calls` as the calls it took part in (so per-utterance
call counts summed over a batch exceed the batch's). This keeps an utterance's costs, and any token budget read from
them, independent of which other utterances share its batch."""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class CostLedger:
    prefilled_tokens: int = 0      # prompt tokens pushed through the LM at prefill
    forwarded_tokens: int = 0      # every token position pushed through the LM (prefill + decode)
    generated_tokens: int = 0      # tokens sampled (speech tokens and END)
    lm_calls: int = 0              # LM forward calls
    candidates: int = 0            # complete candidates produced
    codec_calls: int = 0
    codec_audio_seconds: float = 0.0
    verifier_calls: dict = field(default_factory=lambda: defaultdict(int))
    verifier_audio_seconds: dict = field(default_factory=lambda: defaultdict(float))
    wall_seconds: dict = field(default_factory=lambda: defaultdict(float))  # per component: lm, codec, verifier:X

    @contextmanager
    def timer(self, component: str, sync=None):
        """Add the elapsed wall time to `component`; `sync` (e.g. torch.cuda.synchronize) runs before reading
        the clock so asynchronous GPU work is charged to the right component."""
        start = time.perf_counter()
        try:
            yield
        finally:
            if sync is not None:
                sync()
            self.wall_seconds[component] += time.perf_counter() - start

    def add_verifier(self, name: str, calls: int, audio_seconds: float) -> None:
        self.verifier_calls[name] += calls
        self.verifier_audio_seconds[name] += audio_seconds

    def merge(self, other: "CostLedger") -> "CostLedger":
        for name in ("prefilled_tokens", "forwarded_tokens", "generated_tokens", "lm_calls", "candidates",
                     "codec_calls", "codec_audio_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("verifier_calls", "verifier_audio_seconds", "wall_seconds"):
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] += v
        return self

    def to_dict(self) -> dict:
        return {
            "prefilled_tokens": self.prefilled_tokens,
            "forwarded_tokens": self.forwarded_tokens,
            "generated_tokens": self.generated_tokens,
            "lm_calls": self.lm_calls,
            "candidates": self.candidates,
            "codec_calls": self.codec_calls,
            "codec_audio_seconds": round(self.codec_audio_seconds, 4),
            "verifier_calls": dict(self.verifier_calls),
            "verifier_audio_seconds": {k: round(v, 4) for k, v in self.verifier_audio_seconds.items()},
            "wall_seconds": {k: round(v, 4) for k, v in self.wall_seconds.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "CostLedger":
        led = cls()
        for name in ("prefilled_tokens", "forwarded_tokens", "generated_tokens", "lm_calls", "candidates",
                     "codec_calls", "codec_audio_seconds"):
            setattr(led, name, d.get(name, 0))
        for name in ("verifier_calls", "verifier_audio_seconds", "wall_seconds"):
            getattr(led, name).update(d.get(name, {}))
        return led
