"""`llasa-search status DIR`: done / failed / remaining jobs per strategy and budget, from the results folder alone.

The sweep writes DIR/plan/<store file>.json when it starts (how many jobs each config name has in this sweep or
shard), so status reads only the folder: the plan, records*.jsonl and failures.jsonl. A folder from before plans
existed is planned again from its config.yaml (which loads the datasets' item lists).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import MissingFileError, ResultsError
from .atomic import atomic_write_json
from .failed_jobs import read_failures
from .store import ResultStore

PLAN_DIR = "plan"


def write_plan(out: Path, store_file: str, jobs, shard=None) -> None:
    counts = Counter(j.config_name for j in jobs)
    atomic_write_json(Path(out) / PLAN_DIR / f"{Path(store_file).stem}.json",
                      {"store_file": store_file, "shard": list(shard) if shard else None, "total": len(jobs),
                       "jobs": dict(counts)})


def _read_plan(path: Path) -> dict:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path} is not a sweep plan ({e}); delete it and rerun the sweep command to write "
                           f"it again") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("jobs"), dict):
        raise ResultsError(f"{path} is not a sweep plan (no 'jobs'); delete it and rerun the sweep command to write "
                           f"it again")
    return plan


def _planned(results: Path) -> tuple[Counter, str]:
    plans = [_read_plan(p) for p in sorted((results / PLAN_DIR).glob("*.json"))]
    whole = [p for p in plans if not p.get("shard")]
    if whole:      # an unsharded run plans every job; shard plans (if any) are parts of it
        return Counter(whole[0]["jobs"]), "plan"
    if plans:
        c: Counter = Counter()
        for p in plans:
            c.update(p["jobs"])
        n = {tuple(p["shard"])[1] for p in plans}
        note = f"plans of {len(plans)} shard(s)" + (f" of {n.pop()}" if len(n) == 1 else "")
        return c, note
    cfg = results / "config.yaml"
    if not cfg.is_file():
        raise ResultsError(f"{results} has neither plan/ nor config.yaml: is it a folder written by "
                           f"`llasa-search sweep`?")
    from .config import load_config
    from .jobs import expand_jobs

    return Counter(j.config_name for j in expand_jobs(load_config(cfg))), "config.yaml (datasets loaded)"


@dataclass
class StatusRow:
    config_name: str
    planned: int
    done: int
    failed: int

    @property
    def remaining(self) -> int:
        return max(0, self.planned - self.done - self.failed)


def sweep_status(results: str | Path) -> tuple[list[StatusRow], dict]:
    results = Path(results)
    if not results.is_dir():
        raise MissingFileError(f"results folder {results} does not exist")
    planned, source = _planned(results)
    store = ResultStore(results, quiet=True)
    done = Counter(k[1] for k in store.keys())
    failures = {k: v for k, v in read_failures(results).items() if k not in store}
    failed = Counter(k[1] for k in failures)
    rows = [StatusRow(c, planned[c], min(done[c], planned[c]), failed[c]) for c in planned]
    extra = {"source": source, "other_records": sum(n for c, n in done.items() if c not in planned),
             "corrupt": store.report.n_corrupt, "errors": Counter(v.get("error", "") for v in failures.values())}
    return rows, extra


def format_status(rows: list[StatusRow], extra: dict) -> str:
    head = ("config (dataset/model/strategy)", "budget", "done", "failed", "remaining", "of")
    table = []
    for r in rows:
        cfg, _, budget = r.config_name.rpartition("/")
        table.append((cfg, budget, str(r.done), str(r.failed), str(r.remaining), str(r.planned)))
    tot = [sum(getattr(r, a) for r in rows) for a in ("done", "failed", "remaining", "planned")]
    table.append(("total", "", *map(str, tot)))
    w = [max(len(x[i]) for x in [head, *table]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(row)) for row in [head, *table]]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    lines.append(f"(jobs planned from {extra['source']})")
    if extra["other_records"]:
        lines.append(f"{extra['other_records']} record(s) belong to configs no longer planned")
    if extra["corrupt"]:
        lines.append(f"{extra['corrupt']} corrupt or truncated record line(s): the next sweep run recomputes them")
    for err, n in extra["errors"].most_common(3):
        lines.append(f"failed x{n}: {err}")
    if tot[1]:
        lines.append("rerun the same `llasa-search sweep` command to retry the failed jobs")
    return "\n".join(lines)


def add_status_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("status", help="done / failed / remaining jobs of a sweep, per strategy and budget",
                              description="Reads only the results folder (plan/, records*.jsonl, failures.jsonl); "
                                          "safe while a sweep is writing to it.")
    p.add_argument("results", help="results folder written by `llasa-search sweep`")
    p.set_defaults(func=cmd_status)
    return p


def cmd_status(args) -> int:
    """A folder that is not a sweep's raises the project's errors (one line, exit 2, from cli.main)."""
    print(format_status(*sweep_status(args.results)))
    return 0
