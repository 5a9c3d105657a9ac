"""One place where every cost of a search is counted, so strategies can be compared at equal compute.

One `CostLedger` per search (the batch) holds what was really computed; `ledger.requests[request_id]` holds each
utterance's own costs as if it ran alone: its own tokens, codec and verifier seconds and FLOPs exactly, its whole
prompt even when an identical prompt was prefilled once for several utterances, and `lm_calls` / `codec_calls` as
the calls it took part in (so per-utterance call counts summed over a batch exceed the batch's). This keeps an
utterance's costs, and any budget read from them, independent of which other utterances share its batch.

Writers: the generation backend (LM tokens and FLOPs), SearchContext (codec and verifier costs, through
`charge_codec` / `charge_verifier`), the search API (candidates, the search's wall time). `to_dict()` is the one
schema, with the keys the study's records store:

  prefilled_tokens, forwarded_tokens, generated_tokens, lm_calls, candidates, codec_calls,
  codec_audio_s                      seconds of audio decoded, context (prompt codes decoded in front) included
  verifier_calls {name: n}, verifier_audio_s {name: seconds}
  flops {lm, codec, verifier:<name>, total}          see llasa_search/compute.py
  time_s {lm, codec, verifier:<name>, ..., total}    wall seconds; `total` is the whole search's wall time when it
                                                     was measured (else the sum of the components). A per-utterance
                                                     ledger's time_s is the batch's shared out by generated tokens
                                                     (`shared_time`), as wall time cannot be split exactly.
"""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable

_COUNTS = ("prefilled_tokens", "forwarded_tokens", "generated_tokens", "masked_tokens", "lm_calls", "candidates",
           "codec_calls", "codec_audio_seconds")
_PER_NAME = ("verifier_calls", "verifier_audio_seconds", "wall_seconds", "component_flops")
# record key -> attribute, where they differ (from_dict also reads the attribute names, as older traces hold them)
_RECORD_KEYS = {"codec_audio_seconds": "codec_audio_s", "verifier_audio_seconds": "verifier_audio_s",
                "wall_seconds": "time_s", "component_flops": "flops"}
TOTAL = "total"   # key of the whole search's wall time in wall_seconds (not a component)


def _new_requests() -> dict:
    return defaultdict(CostLedger)


@dataclass
class CostLedger:
    prefilled_tokens: int = 0      # prompt tokens pushed through the LM at prefill
    forwarded_tokens: int = 0      # every token position pushed through the LM (prefill + decode)
    generated_tokens: int = 0      # tokens sampled (speech tokens and END)
    masked_tokens: int = 0         # positions forwarded for rows that had already finished inside an extend (waste)
    lm_calls: int = 0              # LM forward calls
    candidates: int = 0            # complete candidates produced
    codec_calls: int = 0
    codec_audio_seconds: float = 0.0
    verifier_calls: dict = field(default_factory=lambda: defaultdict(int))
    verifier_audio_seconds: dict = field(default_factory=lambda: defaultdict(float))
    wall_seconds: dict = field(default_factory=lambda: defaultdict(float))  # per component: lm, codec, verifier:X
    component_flops: dict = field(default_factory=lambda: defaultdict(float))  # lm, codec, verifier:X
    requests: dict = field(default_factory=_new_requests, repr=False, compare=False)  # request_id -> CostLedger

    @property
    def flops(self) -> float:
        """Total FLOPs (the `flops` budget unit)."""
        return float(sum(self.component_flops.values()))

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

    def add_flops(self, component: str, flops: float) -> None:
        self.component_flops[component] += float(flops)

    def add_verifier(self, name: str, calls: int, audio_seconds: float) -> None:
        self.verifier_calls[name] += calls
        self.verifier_audio_seconds[name] += audio_seconds

    # -- charging a batch and its utterances at once ----------------------------------------------------------
    def charge_codec(self, items: Iterable[tuple[object, float]], calls: int, wall: float,
                     flops_of=None) -> None:
        """`items`: (request_id, seconds decoded for it, context included) per decoded sequence; `calls`/`wall`:
        the codec calls and time they took; `flops_of(seconds)`: FLOPs of decoding one such sequence."""
        items = list(items)
        self.codec_calls += calls
        self.wall_seconds["codec"] += wall
        for rid in dict.fromkeys(rid for rid, _ in items):
            self.requests[rid].codec_calls += 1
        for rid, seconds in items:
            flops = flops_of(seconds) if flops_of is not None else 0.0
            for led in (self, self.requests[rid]):
                led.codec_audio_seconds += seconds
                led.add_flops("codec", flops)

    def charge_verifier(self, name: str, items: Iterable[tuple[object, float]], wall: float,
                        clip_flops: Iterable[float] | None = None) -> None:
        """`items`: (request_id, seconds of audio scored) per scored clip, all in one call that took `wall` s;
        `clip_flops`: the FLOPs of scoring each clip (a fixed-window model such as Whisper costs its window)."""
        items = list(items)
        flops = list(clip_flops) if clip_flops is not None else [0.0] * len(items)
        self.wall_seconds[f"verifier:{name}"] += wall
        self.add_verifier(name, len(items), sum(s for _, s in items))
        for (rid, seconds), f in zip(items, flops):
            self.requests[rid].add_verifier(name, 1, seconds)
            for led in (self, self.requests[rid]):
                led.add_flops(f"verifier:{name}", f)

    def charge_candidates(self, request_id, n: int) -> None:
        self.candidates += n
        self.requests[request_id].candidates += n

    # -- combining and reporting -------------------------------------------------------------------------------
    def merge(self, other: "CostLedger") -> "CostLedger":
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _PER_NAME:
            mine = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] += v
        return self

    def request_dict(self, request_id) -> dict:
        """One utterance's costs in the record schema, its time_s shared out from the batch's."""
        own = self.requests[request_id]
        d = own.to_dict()
        d["time_s"] = shared_time(self, own.generated_tokens)
        return d

    def to_dict(self) -> dict:
        wall = {k: round(v, 4) for k, v in self.wall_seconds.items() if k != TOTAL}
        total = self.wall_seconds.get(TOTAL, sum(wall.values()))
        flops = {k: float(v) for k, v in self.component_flops.items()}
        return {
            "prefilled_tokens": self.prefilled_tokens,
            "forwarded_tokens": self.forwarded_tokens,
            "generated_tokens": self.generated_tokens,
            "masked_tokens": self.masked_tokens,
            "lm_calls": self.lm_calls,
            "candidates": self.candidates,
            "codec_calls": self.codec_calls,
            "codec_audio_s": round(self.codec_audio_seconds, 4),
            "verifier_calls": dict(self.verifier_calls),
            "verifier_audio_s": {k: round(v, 4) for k, v in self.verifier_audio_seconds.items()},
            "flops": {**flops, TOTAL: float(sum(flops.values()))},
            "time_s": {**wall, TOTAL: round(total, 4)},
        }

    @classmethod
    def from_dict(cls, d: dict) -> "CostLedger":
        led = cls()
        for name in _COUNTS:
            setattr(led, name, d.get(_RECORD_KEYS.get(name, name), d.get(name, 0)))
        for name in _PER_NAME:
            values = d.get(_RECORD_KEYS.get(name, name), d.get(name)) or {}
            getattr(led, name).update({k: v for k, v in values.items() if k != TOTAL or name == "wall_seconds"})
        return led


def shared_time(batch: CostLedger, generated_tokens: int) -> dict:
    """A batch's time_s shared out to an utterance by its share of the generated tokens (the one place wall time
    is divided; an utterance that generated nothing gets an equal share)."""
    total = batch.generated_tokens
    n = max(1, len(batch.requests))
    share = generated_tokens / total if total else 1.0 / n
    return {k: round(v * share, 4) for k, v in batch.to_dict()["time_s"].items()}
