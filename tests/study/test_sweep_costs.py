"""What a sweep record says a search cost: model loading kept out of wall time (the first job of a sweep is not
charged it), the ledger in the search's own schema with FLOPs per component, FLOPs budgets, and `report --x flops`."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import yaml

from llasa_search.study.store import ResultStore

LOAD_S = 3.0


def _slow_loading_verifier():
    """A registered verifier whose model takes LOAD_S to load (once), as real ones do on first use."""
    from verifiers import register
    from verifiers.base import Verifier, VerifierResult
    from verifiers.registry import verifier_names

    if "test_slow_load" in verifier_names():
        return

    @register("test_slow_load")
    class SlowLoad(Verifier):
        kind = "other"          # judges any request (a speaker kind would need reference audio)
        supports_partial = True
        loaded = False

        def load(self):
            if not type(self).loaded:
                time.sleep(LOAD_S)
                type(self).loaded = True
            return self

        def score(self, waveforms, sample_rate, contexts):
            self.load()
            return [VerifierResult(float(np.mean(np.abs(w))) if len(w) else 0.0) for w in waveforms]

        def identity(self):
            return {"name": "test_slow_load"}

        def flops_per_second(self):
            return 1e6


def _sweep(tmp_path_factory, name: str, strategies: list, batch_size: int = 1):
    from llasa_search.cli import main

    base = tmp_path_factory.getbasetemp()
    os.environ.setdefault("LLASA_SEARCH_HOME", str(base / "llasa-home"))   # tiny models shared with other tests
    manifest = base / f"{name}-items.jsonl"
    manifest.write_text("".join(json.dumps({"utt_id": f"u{i}", "text": t}) + "\n"
                                for i, t in enumerate(["A short test.", "Another one."])))
    cfg = {"name": name, "models": [{"name": "tiny", "path": "tiny"}],
           "datasets": [{"name": "items", "kind": "manifest", "options": {"path": str(manifest)}}],
           "evaluation": {"verifiers": ["duration"]}, "strategies": strategies, "seeds": [0],
           "batch_size": batch_size}
    path, out = base / f"{name}.yaml", base / f"{name}-out"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 0
    return out, ResultStore(out).records()


@pytest.mark.slow
def test_first_job_is_not_charged_the_model_load(tmp_path_factory, capsys):
    from llasa_search.cli import main

    _slow_loading_verifier()
    out, recs = _sweep(tmp_path_factory, "load", [
        {"name": "bon", "strategy": "best_of_n", "budgets": [2], "verifiers": ["test_slow_load"],
         "options": {"max_new_tokens": 20}}])
    assert len(recs) == 2
    loads = sorted(r["timing"]["load_s"] for r in recs)
    assert loads[0] < 0.5 * LOAD_S <= LOAD_S <= loads[1]      # one call met the load, the other did not
    for r in recs:
        # the job's wall time is its search, prompt encoding and evaluation (plus bookkeeping), without the load
        # (a loaded machine can make the search itself take longer than LOAD_S, so compare with its parts)
        t = r["ledger"]["time_s"]
        parts = t["total"] + t["prepare"] + r["extra"]["evaluation"]["time_s"]["total"]
        assert parts <= r["timing"]["wall_s"] < parts + LOAD_S / 2, (r["timing"], t)
        flops = r["ledger"]["flops"]
        assert flops["lm"] > 0 and flops["codec"] > 0 and flops["verifier:test_slow_load"] > 0
        assert flops["total"] == pytest.approx(flops["lm"] + flops["codec"] + flops["verifier:test_slow_load"])
    rep = out.parent / "load-report"
    assert main(["report", str(out), "--out", str(rep), "--x", "flops", "--n-boot", "50"]) == 0
    assert list((rep / "scaling").glob("*__flops.png"))


@pytest.mark.slow
def test_flops_budgets_in_a_sweep(tmp_path_factory):
    _slow_loading_verifier()
    _, recs = _sweep(tmp_path_factory, "flops", [
        {"name": "bon", "strategy": "best_of_n", "budgets": ["2e8", "8e8"], "budget_unit": "flops",
         "verifiers": ["test_slow_load"], "options": {"max_new_tokens": 20, "n": 2}}], batch_size=2)
    assert sorted({r["budget"]["value"] for r in recs}) == [200_000_000, 800_000_000]
    for r in recs:
        # spent up to the budget (decoding and scoring still owed count as spent: the END token is not decoded)
        assert 0.9 * r["budget"]["value"] <= r["ledger"]["flops"]["total"] <= 1.5 * r["budget"]["value"]
        assert r["extra"]["strategy_options"]["budget_unit"] == "flops"
    cands = {r["budget"]["value"]: [] for r in recs}
    for r in recs:
        cands[r["budget"]["value"]].append(r["ledger"]["candidates"])
    assert min(cands[800_000_000]) > max(cands[200_000_000])   # a larger FLOPs budget draws more waves
