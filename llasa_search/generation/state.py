"""A generation state: one candidate's token ids, its lineage of seeds, and (internally) its KV cache."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    """Positions [start, end) of the sequence were sampled with `seed`."""

    seed: int
    start: int
    end: int

    def to_dict(self) -> dict:
        return {"seed": self.seed, "start": self.start, "end": self.end}


@dataclass(eq=False)
class GenState:
    uid: int
    request_id: object
    prompt_len: int
    ids: list[int]
    seed: int
    max_length: int
    parent_uid: int | None = None
    segments: list[Segment] = field(default_factory=list)
    finished: bool = False
    finish_reason: str | None = None  # "end" (SPEECH_GENERATION_END sampled) or "max_length"
    # Owned by the backend: per-layer KV views covering all of `ids`, and the logits over
    # [codes..., END] for the next position. None once finished or released.
    kv: tuple | None = field(default=None, repr=False)
    next_logits: object = field(default=None, repr=False)

    @property
    def length(self) -> int:
        return len(self.ids)

    @property
    def generated_ids(self) -> list[int]:
        return self.ids[self.prompt_len:]

    @property
    def num_generated(self) -> int:
        return len(self.ids) - self.prompt_len

    def record_sampled(self, seed: int, position: int) -> None:
        last = self.segments[-1] if self.segments else None
        if last is not None and last.seed == seed and last.end == position:
            self.segments[-1] = Segment(seed, last.start, position + 1)
        else:
            self.segments.append(Segment(seed, position, position + 1))

    def lineage(self) -> list[dict]:
        return [s.to_dict() for s in self.segments]
