"""The driver's work queue: batches of jobs, largest estimated cost first, so workers finish together.

Cost model (relative units; only the order matters): cost = text characters x candidate-equivalents, where
  sampling                    1 candidate
  best_of_n                   budget candidates (a pool: its max budget)
  beam / dvts / staged        budget x TREE_OVERHEAD: every step forwards `budget` children and PRM-scores them
  token budgets               budget tokens / (50 tokens/s x characters / 14 per second of speech): the budget, not
                              the text, bounds the work
  FLOPs budgets               as tokens, at FLOPS_PER_TOKEN (2 x 1.3e9: a Llasa-1B forward per token; nominal, it
                              only has to rank jobs)
Audio length (so tokens, decoding and verifier time) grows with the text's length: ~14 characters per second.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ...prompts import CHARS_PER_SECOND, SPEECH_TOKENS_PER_SECOND

TREE_OVERHEAD = 1.5
FLOPS_PER_TOKEN = 2 * 1.3e9


def job_cost(job) -> float:
    chars = max(10, len(job.item.text or ""))
    kind, unit, budget = job.strategy.strategy, job.strategy.budget_unit, float(job.budget)
    if unit == "flops":
        budget /= FLOPS_PER_TOKEN
    if unit != "candidates":
        return budget * CHARS_PER_SECOND / SPEECH_TOKENS_PER_SECOND
    if kind == "sampling":
        return chars
    if kind in ("beam", "dvts", "staged"):
        return chars * budget * TREE_OVERHEAD
    return chars * budget


@dataclass
class QueuedBatch:
    id: int
    jobs: list
    cost: float
    attempts: int = 0                      # runs that ended in an error or a dead worker
    avoid: set = field(default_factory=set)  # workers it failed on (tried elsewhere first)
    errors: list = field(default_factory=list)


class WorkQueue:
    def __init__(self, batches):
        items = [QueuedBatch(i, list(b), sum(job_cost(j) for j in b)) for i, b in enumerate(batches)]
        # largest first; ties keep the sweep's order (stable sort)
        self._q = deque(sorted(items, key=lambda b: -b.cost))
        self.total = len(items)

    def __len__(self) -> int:
        return len(self._q)

    def take(self, worker: int, alive: set[int]) -> QueuedBatch | None:
        """The first batch this worker may take: one that did not fail on it, unless no other live worker could."""
        for b in self._q:
            if worker not in b.avoid or not (alive - b.avoid):
                self._q.remove(b)
                return b
        return None

    def retry(self, b: QueuedBatch) -> None:
        self._q.appendleft(b)   # retried work first: it is the oldest
