"""Sweeps on local Ray: jobs/s with 1 vs 2 workers (one torch thread each) and the driver's overhead per job.

    python benchmarks/bench_ray.py [--jobs 8] [--max-new-tokens 16] [--executor search|espeak]

The default runs the search executor on the tiny random models (made under $LLASA_SEARCH_HOME on first use): one
utterance of the demo set, sampling, `--jobs` seeds, so every job costs the same. Steady-state jobs/s leaves out each
worker's first job (Ray start, imports, model loading); end-to-end wall time is printed too. Driver overhead: the
driver's wall time not spent waiting for workers (receiving outputs, writing audio and records with fsync,
scheduling), per job.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def config(tmp: Path, jobs: int, max_new_tokens: int, executor: str) -> Path:
    import yaml

    strat = {"name": "sampling", "strategy": "sampling"}
    if executor == "search":
        strat["options"] = {"max_new_tokens": max_new_tokens}
    d = {"name": "bench-ray", "models": [{"name": "tiny", "path": "tiny"}],
         "datasets": [{"name": "demo", "kind": "demo", "options": {"limit": 1}}],
         "evaluation": {"verifiers": ["duration"]}, "strategies": [strat], "seeds": list(range(jobs)),
         "batch_size": 1, "output": {"save_audio": True}}
    p = tmp / "bench.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def steady_rate(completed: list, workers: int) -> float:
    """Jobs/s after each worker's first job (which pays for start-up and model loading)."""
    times = sorted(t for t, _ in completed)
    if len(times) <= workers:
        return float("nan")
    return (len(times) - workers) / max(1e-9, times[-1] - times[workers - 1])


def run(cfg: Path, out: Path, workers: int, executor: str) -> dict:
    from llasa_search.study.cluster import ExecutorFactory, RayExecution
    from llasa_search.study.config import load_config, parse_execution
    from llasa_search.study.runner import run_sweep

    c = load_config(cfg)
    ex = RayExecution(ExecutorFactory(executor, c), parse_execution({"backend": "ray", "workers": workers}),
                      name=executor)
    t = time.perf_counter()
    summary = run_sweep(c, out, ex, progress=False)
    wall = time.perf_counter() - t
    assert summary.failed == 0 and summary.ran == summary.total_jobs
    return {**ex.stats, "end_to_end_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=16)
    ap.add_argument("--executor", choices=["search", "espeak"], default="search")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as d:
        tmp = Path(d)
        os.environ.setdefault("LLASA_SEARCH_HOME", str(tmp / "home"))
        cfg = config(tmp, a.jobs, a.max_new_tokens, a.executor)
        if a.executor == "search":   # make the tiny models once, outside the timed runs
            from llasa_search.study.executors import get_executor
            from llasa_search.study.config import load_config

            get_executor("search", config=load_config(cfg)).engine(load_config(cfg).models[0])
        res = {w: run(cfg, tmp / f"out{w}", w, a.executor) for w in (1, 2)}
    print(f"cores: {os.cpu_count()} (load average {os.getloadavg()[0]:.1f} at the end), executor {a.executor}, "
          f"{a.jobs} jobs, one torch thread per worker")
    for w, s in res.items():
        print(f"{w} worker(s): {steady_rate(s['completed'], w):.3f} jobs/s steady, end to end {s['end_to_end_s']:.1f} s "
              f"(Ray start + imports + model loads included); {s['worker_s'] / s['jobs']:.2f} s per job inside a worker; "
              f"driver overhead {1e3 * s['driver_busy_s'] / s['jobs']:.1f} ms/job; lost workers {s['lost_workers']}")
    r1, r2 = (steady_rate(res[w]["completed"], w) for w in (1, 2))
    print(f"speed-up 2 vs 1 workers: {r2 / r1:.2f}x steady, {res[1]['end_to_end_s'] / res[2]['end_to_end_s']:.2f}x "
          f"end to end")


if __name__ == "__main__":
    main()
