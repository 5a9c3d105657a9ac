"""run_sweep: expand a config into jobs, skip those already in the store, run the rest through an executor.

The executor is any callable `executor(jobs: list[Job]) -> list[JobOutput]` (same order). The production executor
(search engine + verifiers) and the offline espeak executor (executors/espeak.py) both plug in here. An object with
`run_batches(batches, sink)` instead (cluster/driver.py: Ray workers) runs the batches elsewhere and hands each result
to the sink, so this process stays the only writer of the results folder.

Crash safety: for each job, audio (and trace) files are written atomically first, then the record is appended with one
write + fsync. A kill between the two leaves files without a record: the job is redone and the files replaced.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..errors import ResultsError
from ..trace_json import trace_json
from .atomic import atomic_write_json, atomic_write_text, atomic_write_wav
from .config import SweepConfig, load_config
from .datasets.select import parse_shard
from .jobs import Job, batches, expand_jobs
from .paths import candidate_name, job_dir
from .provenance import provenance
from .progress import SweepProgress
from .records import JobOutput, build_record
from .sink import RecordSink
from .status import write_plan
from .store import ResultStore

log = logging.getLogger(__name__)

Executor = Callable[[Sequence[Job]], Sequence[JobOutput]]


class ConfigMismatchError(ResultsError, RuntimeError):
    """Results in the folder were produced with other settings under the same config names."""


@dataclass
class SweepSummary:
    out_dir: Path
    total_jobs: int
    already_done: int
    ran: int
    recomputed_corrupt: int
    store_report: str
    failed: int = 0         # jobs that failed for good this run (failures.jsonl); a rerun retries them

    def __str__(self) -> str:
        s = (f"{self.out_dir}: {self.total_jobs} jobs, {self.already_done} already done, {self.ran} run now "
             f"({self.recomputed_corrupt} of them replace corrupt/truncated records). Store: {self.store_report}")
        if self.failed:
            s += (f"\n{self.failed} job(s) FAILED (errors in {self.out_dir / 'failures.jsonl'}); rerun the same command "
                  f"to retry them")
        return s


def audio_relpath(job: Job, candidate: int | None = None) -> str:
    """The chosen audio's (or candidate `candidate`'s) path in the results folder (layout: paths.py)."""
    return f"{job_dir(job)}/{'chosen.wav' if candidate is None else candidate_name(candidate)}"


def shard_jobs(jobs: list[Job], shard) -> list[Job]:
    """Shard i of n takes the items at positions i, i+n, ... of each dataset (batches stay whole per config)."""
    sh = parse_shard(shard)
    if sh is None:
        return jobs
    i, n = sh
    pos: dict[tuple[str, str], int] = {}
    count: dict[str, int] = {}
    for j in jobs:
        k = (j.dataset.name, j.item.utt_id)
        if k not in pos:
            pos[k] = count.get(k[0], 0)
            count[k[0]] = pos[k] + 1
    return [j for j in jobs if pos[(j.dataset.name, j.item.utt_id)] % n == i]


def _write_run_info(out: Path, config: SweepConfig, shard) -> None:
    atomic_write_text(out / "config.yaml", config.to_yaml())
    info = provenance()
    info.update(config_fingerprint=config.fingerprint(), config_source=config.source, shard=shard)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    atomic_write_json(out / "runs" / f"{stamp}-{os.getpid()}" / "provenance.json", info)
    atomic_write_text(out / "runs" / f"{stamp}-{os.getpid()}" / "config.yaml", config.to_yaml())
    atomic_write_json(out / "provenance.json", info)


def check_same_settings(out: Path, store: ResultStore, jobs: list[Job], exec_name: str) -> None:
    """Refuse (before writing anything) when records already in the folder were made with other settings or by
    another executor under the same config names."""
    for j in jobs:
        old = store.get(j.key)
        if old is None:
            continue
        if old.get("config_hash") != j.config_hash:
            n = sum(1 for x in jobs if x.key in store and store.get(x.key).get("config_hash") != x.config_hash)
            raise ConfigMismatchError(
                f"{n} job(s) already in {out} were produced with different settings under the same config name, "
                f"e.g. {j.config_name!r} (stored config_hash {old.get('config_hash')}, now {j.config_hash}). Give "
                f"the changed strategy a new name, or write to a new --out folder.")
        if old.get("executor") not in (None, exec_name):
            raise ConfigMismatchError(
                f"{out} holds records of {j.config_name!r} made by the {old.get('executor')!r} executor; this run "
                f"uses {exec_name!r}. Write to a new --out folder (or rerun with --executor {old.get('executor')}).")


def run_sweep(config: SweepConfig | str | os.PathLike, out_dir: str | os.PathLike, executor: Executor, *,
              shard=None, max_jobs: int | None = None, progress: bool = True, load_items=None) -> SweepSummary:
    if not isinstance(config, SweepConfig):
        config = load_config(config)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sh = parse_shard(shard)
    fname = f"records.shard-{sh[0]}-of-{sh[1]}.jsonl" if sh else "records.jsonl"
    with ResultStore(out, writer=True, filename=fname) as store:
        corrupt_keys = {b.key for b in store.report.corrupt if b.key is not None}
        jobs = shard_jobs(expand_jobs(config, load_items), shard)
        exec_name = getattr(executor, "name", None) or type(executor).__name__
        check_same_settings(out, store, jobs, exec_name)
        _write_run_info(out, config, shard)   # only once the folder is known to hold this config's results
        write_plan(out, fname, jobs, sh)
        todo = [j for j in jobs if j.key not in store]
        done_before = len(jobs) - len(todo)
        if max_jobs is not None:
            todo = todo[: max(0, int(max_jobs))]
        bar = SweepProgress(len(jobs), done_before, f"sweep {config.name}", enabled=progress)
        sink = RecordSink(out, store, exec_name, corrupt_keys, bar, _persist)
        try:
            run_batches = getattr(executor, "run_batches", None)   # a cluster (cluster/driver.py) runs them itself
            if run_batches is not None:
                run_batches(batches(todo, config.batch_size), sink)
            else:
                for batch in batches(todo, config.batch_size):
                    t0 = time.perf_counter()
                    outputs = list(executor(batch))
                    sink.done(batch, outputs, (time.perf_counter() - t0) / max(1, len(batch)))
        finally:
            bar.close()
        summary = SweepSummary(out, len(jobs), done_before, len(todo), sink.recomputed,
                              f"{len(store)} record(s) now; at open: {store.report.summary()}", failed=sink.failed)
    log.info("%s", summary)
    return summary


def _persist(out: Path, job: Job, o: JobOutput, wall: float, exec_name: str) -> dict:
    audio_path = None
    if job.output.save_audio and o.audio is not None:
        audio_path = audio_relpath(job)
        atomic_write_wav(out / audio_path, o.audio, o.sample_rate)
    cand_paths = None
    if job.output.save_candidates and o.candidates:
        cand_paths = []
        for i, c in enumerate(o.candidates):
            if c.audio is None:
                cand_paths.append(None)
                continue
            p = audio_relpath(job, i)
            atomic_write_wav(out / p, c.audio, o.sample_rate)
            cand_paths.append(p)
    trace_path = None
    if job.output.save_traces and o.trace is not None:
        trace_path = f"{job_dir(job)}/trace.json"
        atomic_write_text(out / trace_path, trace_json(o.trace))
    return build_record(job, o, audio_path, cand_paths, trace_path, wall, exec_name)
