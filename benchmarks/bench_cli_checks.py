"""How fast `llasa-search synthesize` refuses a bad request in a fresh process (not a test).

Each case runs `python -m llasa_search.cli synthesize ...` `--runs` times (default 5) and reports the median wall time,
next to the same interpreter importing torch and transformers (`import torch, transformers`: what the checks used
to pay before answering) measured in the same run. The checks need only the strategy and verifier registries and
config classes, so they should come back in a fraction of that.

    PYTHONPATH=. python benchmarks/bench_cli_checks.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "unknown strategy": ["--strategy", "nope"],
    "speaker PRM, no prompt": ["--strategy", "beam", "-o", "prm_verifier=sim_resemblyzer"],
    "bad option": ["--strategy", "dvts", "-o", "subtreez=2"],
}


def wall(cmd: list[str], runs: int, env: dict) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    heavy = wall([sys.executable, "-c", "import torch, transformers"], args.runs, env)
    print(f"median of {args.runs} fresh processes; baseline `import torch, transformers`: {heavy:.2f} s")
    print(f"{'refused request':24s} {'wall s':>7s} {'/ baseline':>10s}")
    with tempfile.TemporaryDirectory() as d:
        for label, argv in CASES.items():
            cmd = [sys.executable, "-m", "llasa_search.cli", "synthesize", "--model", "tiny", "--text", "Hello.",
                   "--out", str(Path(d) / "o.wav"), *argv]
            t = wall(cmd, args.runs, env)
            print(f"{label:24s} {t:7.2f} {t / heavy:10.2f}")


if __name__ == "__main__":
    main()
