"""Costs of the study machinery (not tests): store append (one fsync per record) and scan, exact best-of-n estimator
vs brute-force enumeration, and a report from a synthetic results folder.

    python benchmarks/bench_study.py [--records 2000]
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np


def bench_store(n: int) -> None:
    from llasa_search.study.store import ResultStore

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        with ResultStore(d, writer=True) as s:
            for i in range(n):
                s.append({"utt_id": f"u{i}", "config_name": "ds/m/bon/candidates=8", "seed": 0,
                          "metrics": {"whisper": {"wer": float(rng.random())}},
                          "candidates": [{"search_scores": {"sim": float(x)}} for x in rng.random(8)]})
        ta = time.perf_counter() - t
        size = (Path(d) / "records.jsonl").stat().st_size
        t = time.perf_counter()
        r = ResultStore(d)
        tr = time.perf_counter() - t
        assert len(r) == n
    print(f"store: {n} appends in {ta:.2f} s ({1e3 * ta / n:.2f} ms/record incl. fsync), "
          f"{size / n:.0f} B/record; scan+verify {1e3 * tr / n:.3f} ms/record")


def bench_bestofn() -> None:
    from llasa_search.study.bestofn import brute_force_best_of_n, expected_best_of_n

    rng = np.random.default_rng(1)
    s, v = rng.normal(size=16), rng.normal(size=16)
    t = time.perf_counter()
    ex = expected_best_of_n(s, v, [8])
    te = time.perf_counter() - t
    t = time.perf_counter()
    bf = brute_force_best_of_n(s, v, 8)
    tb = time.perf_counter() - t
    print(f"best-of-n N=16 n=8: exact {1e3 * te:.2f} ms vs brute force over {math.comb(16, 8)} subsets "
          f"{1e3 * tb:.1f} ms ({tb / te:.0f}x); |diff| = {abs(ex[0] - bf):.1e}")
    for N in (64, 1024, 8192):
        s = rng.normal(size=N)
        ns = [2 ** k for k in range(int(math.log2(N)) + 1)]
        t = time.perf_counter()
        expected_best_of_n(s, ns=ns)
        print(f"best-of-n N={N}: whole curve ({len(ns)} points) in {1e3 * (time.perf_counter() - t):.1f} ms")


def bench_report(utts: int = 50) -> None:
    from llasa_search.study.report import make_report
    from llasa_search.study.store import ResultStore

    rng = np.random.default_rng(2)
    with tempfile.TemporaryDirectory() as d:
        with ResultStore(d, writer=True) as s:
            for u in range(utts):
                cands = []
                for c in range(16):
                    e = int(rng.integers(0, 3))
                    cands.append({"search_scores": {"sim_resemblyzer": float(rng.random())},
                                  "metrics": {"whisper": {"wer": e / 10, "substitutions": e, "deletions": 0,
                                                          "insertions": 0, "ref_len": 10},
                                              "sim_ecapa": {"sim": float(rng.random())}}})
                s.append({"utt_id": f"u{u}", "config_name": "en/m/bon/candidates=16", "seed": 0, "dataset": "en",
                          "model": {"name": "m"}, "strategy": "bon", "strategy_kind": "best_of_n", "pool": True,
                          "pool_budgets": [1, 2, 4, 8, 16], "budget": {"unit": "candidates", "value": 16},
                          "search_verifiers": ["sim_resemblyzer"], "item": {"language": "en"},
                          "metrics": cands[0]["metrics"], "search_scores": cands[0]["search_scores"],
                          "candidates": cands, "ledger": {"generated_tokens": 1600, "candidates": 16,
                                                          "time_s": {"total": 8.0}}})
        t = time.perf_counter()
        paths = make_report(d, Path(d) / "report", n_boot=1000, html=False)
        plain = time.perf_counter() - t
        print(f"report: {utts} utterances x pool of 16, 5 budgets, 3 metrics x 3 x-axes + over-optimisation plot: "
              f"{plain:.1f} s")
        from llasa_search.study.html import write_site

        t = time.perf_counter()
        write_site(d, Path(d) / "report", ResultStore(d).records(), paths["long"], [], [])
        html_s = time.perf_counter() - t
        print(f"HTML pages ({utts} utterance pages, index, worst cases): {html_s:.2f} s = "
              f"{1e3 * html_s / utts:.1f} ms per utterance, {html_s / plain:.2f}x the tables and plots")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--utterances", type=int, default=50, help="utterances in the report benchmark")
    a = ap.parse_args()
    bench_store(a.records)
    bench_bestofn()
    bench_report(a.utterances)
