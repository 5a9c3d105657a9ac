"""What a search returns: the chosen audio, every candidate with its lineage and scores, and the ledger."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..seeds import SAMPLER_VERSION


@dataclass
class CandidateTrace:
    uid: int
    request_id: str
    parent_uid: int | None
    seed: int
    lineage: list[dict]                  # [{seed, start, end}]: regenerate with GenerationBackend.regenerate
    prompt_len: int
    generated_ids: list[int]             # from index `offset` of the generated tokens on (see below)
    finished: bool
    finish_reason: str | None
    role: str = "final"                  # "final" (complete candidate) or "partial" (a scored prefix)
    step: int | None = None              # search step at which a partial was scored
    step_scores: list[dict] = field(default_factory=list)   # [{step, tokens, scores{verifier: s}, value}]
    scores: dict = field(default_factory=dict)               # final verifier scores {name: score}
    metrics: dict = field(default_factory=dict)              # raw verifier metrics {name: {...}}
    flags: dict = field(default_factory=dict)                # {name: [flags]} for failed scorings
    selected: bool = False
    # Partial prefixes store only their own tokens (from where they were forked): every generated token is stored
    # once, so a wide beam's trace grows with tokens generated, not with steps x length. The full prefix is the
    # parent chain's tokens, or `GenerationBackend.regenerate(prompt_ids, lineage)`.
    offset: int = 0
    max_length: int | None = None        # the candidate's length cap (pass it to regenerate for the same finish)
    # uids of the states that shared each LM batch extending this candidate or its ancestors: in bf16 without
    # `deterministic`, re-running that composition reproduces it exactly.
    lm_batches: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResult:
    request_id: str
    strategy: str
    config: dict
    seed: int
    prompt_ids: list[int]
    chosen_uid: int | None
    codes: list[int]
    audio: np.ndarray
    sample_rate: int
    scores: dict
    candidates: list[CandidateTrace]
    ledger: dict
    chunks: list[dict] = field(default_factory=list)  # for chunked long texts: one sub-trace per chunk
    # "budget_exhausted": the token budget ended the search before it completed (the chosen candidate may be
    # unfinished: see its trace's flags); "selection_first": no verifier chose (`selection: first`);
    # "no_scored_candidate": every scoring failed or was skipped, so the seeded tie-break chose (finalize.choose)
    flags: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> CandidateTrace | None:
        # a final candidate may also appear as a scored prefix (role "partial") earlier in the list
        return next((c for c in self.candidates if c.uid == self.chosen_uid and c.role == "final"), None)

    def to_trace(self) -> dict:
        """JSON-serialisable trace (no audio)."""
        return {
            "request_id": self.request_id, "strategy": self.strategy, "config": self.config, "seed": self.seed,
            "prompt_ids": self.prompt_ids, "chosen_uid": self.chosen_uid, "codes": self.codes,
            "audio_seconds": len(self.audio) / self.sample_rate, "sample_rate": self.sample_rate,
            "scores": self.scores, "flags": self.flags, "ledger": self.ledger, "chunks": self.chunks,
            "candidates": [c.to_dict() for c in self.candidates], "sampler_version": SAMPLER_VERSION,
        }
