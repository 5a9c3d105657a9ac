"""The seam between search strategies and whatever runs the LM.

Strategies and the engine depend only on this protocol. They hold `GenState` handles and may read a state's
`finished`, `finish_reason`, `ids`, `uid`, `seed`, `request_id`, `segments`/`lineage()`, but never its `kv` or
`next_logits`: those are the backend's (a serving engine may keep them on another process or machine).

Contract (tests/core/test_backend_contract.py runs it on every backend):
- prefill forwards each distinct prompt token once; fork copies and forwards nothing; extend samples at most n
  tokens per unfinished state and stops a state at SPEECH_GENERATION_END or its max_length; no token is forwarded
  twice (positions of rows that finished inside an extend may be spent as masked work, counted as masked_tokens).
- a state's tokens are a function of (prompt, seed lineage, sampling config): independent of batch mates, batch
  order and how generation is split into extends (exactly in fp32, and in every dtype with `deterministic`).
- regenerate(prompt, lineage) rebuilds a candidate's tokens.
- ledgers: `ledger` (what was computed) and `request_ledgers[request_id]` (each utterance as if it ran alone).
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from .ledger import CostLedger
from .sampling import SamplingConfig
from .state import GenState, Segment


@runtime_checkable
class GenerationBackend(Protocol):
    sampling: SamplingConfig
    ledger: CostLedger
    request_ledgers: dict
    max_length: int

    def prefill(self, prompts: Sequence[Sequence[int]], seeds: Sequence[int], request_ids: Sequence | None = None,
                max_lengths: Sequence[int] | None = None) -> list[GenState]:
        """One unfinished state per prompt, ready to sample its first token."""

    def fork(self, state: GenState, k: int, seeds: Sequence[int] | None = None) -> list[GenState]:
        """k children sharing the parent's prefix; default child seeds derive from (seed, position, index)."""

    def extend(self, states: Sequence[GenState], max_new_tokens: int,
               sampling: SamplingConfig | None = None) -> list[GenState]:
        """Up to max_new_tokens more tokens for each unfinished state, in place; returns the states."""

    def compact(self, states: Sequence[GenState]) -> None:
        """Keep these states and let storage shared with states released earlier be freed now (select)."""

    def release(self, states: Sequence[GenState]) -> None:
        """The strategy no longer needs these states' caches."""

    def batch_mates(self, state: GenState) -> list[list[int]]:
        """uids that shared each LM batch extending this state or its ancestors (recorded in traces)."""

    def regenerate(self, prompt_ids: Sequence[int], segments: Sequence[Segment | dict],
                   sampling: SamplingConfig | None = None, max_length: int | None = None,
                   request_id: object = "regenerate") -> GenState:
        """Rebuild a candidate from its prompt and recorded lineage."""
