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
    # LM batches this state was extended in (indices into the backend's batch_log): with its batch mates, what
    # reproduces its tokens exactly when deterministic mode is off (bf16 numerics depend on batch composition).
    batches: list[int] = field(default_factory=list)
    # Owned by the backend (opaque to strategies): its KV handle covering all of `ids`, and the logits over
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

    def record_span(self, seed: int, start: int, end: int) -> None:
        """Positions [start, end) were sampled with `seed` (merged into the last segment when contiguous)."""
        if end <= start:
            return
        last = self.segments[-1] if self.segments else None
        if last is not None and last.seed == seed and last.end == start:
            self.segments[-1] = Segment(seed, last.start, end)
        else:
            self.segments.append(Segment(seed, start, end))

    def lineage(self) -> list[dict]:
        return [s.to_dict() for s in self.segments]
