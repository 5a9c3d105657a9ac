"""Jobs that failed for good (after their retries), one JSON line each in <results>/failures.jsonl.

A failed job has no record, so rerunning the same sweep command runs it again; `llasa-search status` counts a job as
failed while it has a failure line and no record. The file is append-only and written only by the sweep's driver
(the one process that writes the results folder).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

FAILURES_FILE = "failures.jsonl"


def record_failure(out_dir: str | os.PathLike, job, error: str, attempts: int, worker: dict | None = None) -> None:
    line = {"key": list(job.key), "config_name": job.config_name, "error": str(error), "attempts": int(attempts),
            "worker": worker, "failed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    data = (json.dumps(line, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    fd = os.open(str(Path(out_dir) / FAILURES_FILE), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_failures(out_dir: str | os.PathLike) -> dict[tuple, dict]:
    """{key: last failure line} (lines cut off by a kill are skipped)."""
    p = Path(out_dir) / FAILURES_FILE
    out: dict[tuple, dict] = {}
    if not p.is_file():
        return out
    for raw in p.read_bytes().split(b"\n"):
        try:
            d = json.loads(raw)
            u, c, s = d["key"]
            out[(str(u), str(c), int(s))] = d
        except (ValueError, KeyError, TypeError):
            continue
    return out
