"""Where finished batches go, from the local loop or a cluster's driver: each output is checked, its files written
and its record appended by this one process (the only writer of the results folder); jobs that failed for good
are written to failures.jsonl (failed_jobs.py) so a rerun retries them."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from .failed_jobs import record_failure
from .progress import SweepProgress
from .records import validate_output


class RecordSink:
    def __init__(self, out: Path, store, exec_name: str, corrupt_keys: set, progress: SweepProgress,
                 persist: Callable):
        self.out, self.store, self.exec_name = out, store, exec_name
        self.corrupt_keys = corrupt_keys
        self.progress = progress
        self._persist = persist            # runner._persist(out, job, output, wall_s, exec_name) -> record
        self.recomputed = 0
        self.failed = 0

    def done(self, batch: Sequence, outputs: Sequence, wall_s: float, worker: dict | None = None) -> None:
        if len(outputs) != len(batch):
            raise RuntimeError(f"executor {self.exec_name} returned {len(outputs)} outputs for {len(batch)} jobs")
        for job, o in zip(batch, outputs):
            validate_output(o, job)
            if job.key in self.store:      # a batch handed out twice (lost worker) is kept once
                continue
            record = self._persist(self.out, job, o, wall_s, self.exec_name)
            if worker is not None:         # timing is left out of comparisons, like the wall time
                record["timing"]["worker"] = dict(worker)
            self.store.append(record)
            self.recomputed += job.key in self.corrupt_keys
            self.progress.job_done(record)

    def fail(self, batch: Sequence, error: str, attempts: int, worker: dict | None = None) -> None:
        for job in batch:
            record_failure(self.out, job, error, attempts, worker)
        self.failed += len(batch)
        self.progress.job_failed(len(batch))
