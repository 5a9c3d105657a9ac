"""The production executor end to end: the demo sweep (a subset) on the tiny models through `llasa-search sweep`,
resumed, then `llasa-search report`. Plus the budget -> options planning and verifier-failure isolation."""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from llasa_search.study.config import ConfigError, StrategySpec, parse_config
from llasa_search.study.records import LEDGER_COUNTS
from llasa_search.study.store import ResultStore

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "experiments" / "configs" / "demo.yaml"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (demo prompts)")


def demo_subset_config(cache_dir: Path) -> dict:
    """demo.yaml cut down for the test suite: 2 utterances, small budgets, short candidates."""
    d = yaml.safe_load(DEMO.read_text())
    d["name"] = "demo-test"
    d["datasets"][0]["options"] = {"limit": 2, "cache_dir": str(cache_dir)}
    small = {"sampling": None, "best-of-n": [1, 2, 4], "beam": [2], "staged": [2]}
    d["strategies"] = [s for s in d["strategies"] if s["name"] in small]
    for s in d["strategies"]:
        if small[s["name"]]:
            s["budgets"] = small[s["name"]]
        s.setdefault("options", {})["max_new_tokens"] = 75
        if s["strategy"] in ("beam", "staged"):  # trees of more than one step: no END in the first 25-token step
            s["options"]["min_new_tokens"] = 30
    return d


def run_demo_sweep(base: Path) -> tuple[Path, Path]:
    """Runs the demo subset once per session into base/"demo-results" (reused when already complete)."""
    from llasa_search.cli import main

    os.environ.setdefault("LLASA_SEARCH_HOME", str(base / "llasa-home"))   # tiny models made once per session
    cfg_path, out = base / "demo-test.yaml", base / "demo-results"
    if (out / "DONE").exists():
        return cfg_path, out
    cfg_path.write_text(yaml.safe_dump(demo_subset_config(base / "demo-cache"), sort_keys=False))
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 0
    (out / "DONE").write_text("ok\n")
    return cfg_path, out


@pytest.fixture(scope="session")
def demo_results(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (demo prompts)")
    return run_demo_sweep(tmp_path_factory.getbasetemp())


@needs_espeak
def test_demo_sweep_records(demo_results):
    cfg_path, out = demo_results
    recs = ResultStore(out).records()
    names = sorted({r["config_name"] for r in recs})
    assert names == ["demo/tiny/beam/candidates=2", "demo/tiny/best-of-n/candidates=4",
                     "demo/tiny/sampling/candidates=1", "demo/tiny/staged/candidates=2"]
    assert len(recs) == 8 and len({(r["utt_id"], r["config_name"], r["seed"]) for r in recs}) == 8
    for r in recs:
        led = r["ledger"]
        for k in LEDGER_COUNTS:
            assert isinstance(led[k], int) and led[k] >= 0, (k, led)
        assert led["prefilled_tokens"] > 0 and led["forwarded_tokens"] >= led["generated_tokens"]
        assert led["forwarded_tokens"] <= 1.02 * (led["prefilled_tokens"] + led["generated_tokens"])
        assert led["candidates"] >= 1 and led["codec_calls"] >= 1 and led["time_s"]["total"] > 0
        assert set(r["metrics"]) == {"pocketsphinx", "mel_sim"}
        for m in r["metrics"].values():
            assert "score" in m
        assert (out / r["audio_path"]).is_file() and (out / r["trace_path"]).is_file()
        assert r["executor"] == "search"
        assert r["extra"]["search_flags"] == []   # no budget here: nothing cut short
        if r["strategy_kind"] != "sampling":
            assert led["verifier_calls"].get("sim_resemblyzer", 0) >= 1
            assert "sim_resemblyzer" in r["search_scores"]
        trace = json.loads((out / r["trace_path"]).read_text())
        assert trace["strategy"] == r["strategy_kind"] and trace["job"]["utt_id"] == r["utt_id"]
    pools = [r for r in recs if r["pool"]]
    assert len(pools) == 2
    for r in pools:
        assert r["ledger"]["candidates"] == 4 and len(r["candidates"]) == 4
        assert sum(c["chosen"] for c in r["candidates"]) == 1
        for c in r["candidates"]:
            assert set(c["metrics"]) == {"pocketsphinx", "mel_sim"} and "sim_resemblyzer" in c["search_scores"]
            assert c["audio_path"] and (out / c["audio_path"]).is_file()
        chosen = next(c for c in r["candidates"] if c["chosen"])
        best = max(c["search_scores"]["sim_resemblyzer"] for c in r["candidates"])
        assert chosen["search_scores"]["sim_resemblyzer"] == best
        assert chosen["metrics"]["mel_sim"]["score"] == r["metrics"]["mel_sim"]["score"]
    staged = [r for r in recs if r["strategy_kind"] == "staged"]
    assert all(r["strategy_config"]["beam_width"] == 2 for r in staged)
    assert all(r["extra"]["strategy_options"]["orm_verifier"] == "pocketsphinx" for r in staged)
    assert all(r["ledger"]["verifier_calls"].get("pocketsphinx", 0) >= 1 for r in staged)


@needs_espeak
def test_demo_sweep_resumes_and_reports(demo_results, tmp_path, capsys):
    from llasa_search.cli import main

    cfg_path, out = demo_results
    before = sorted(p.read_bytes() for p in out.glob("records*.jsonl"))
    capsys.readouterr()
    assert main(["sweep", str(cfg_path), "--out", str(out), "--no-progress"]) == 0
    assert "8 already done, 0 run now" in capsys.readouterr().out
    assert sorted(p.read_bytes() for p in out.glob("records*.jsonl")) == before

    rep = tmp_path / "report"
    assert main(["report", str(out), "--out", str(rep), "--n-boot", "200"]) == 0
    for f in ("table.md", "table.csv", "table.tex", "data.csv", "README.md"):
        assert (rep / f).is_file(), f
    table = (rep / "table.md").read_text()
    for s in ("sampling", "best-of-n", "beam", "staged"):
        assert s in table
    pngs = list((rep / "scaling").glob("*.png"))
    assert pngs and list((rep / "scaling").glob("*.pdf"))
    assert list((rep / "overopt").glob("*sim_resemblyzer__vs__mel_sim*.png"))


# -- planning: budgets -> strategy options, errors before any work ---------------------------------------------------

def _spec(strategy, budgets=(4,), verifiers=("sim_resemblyzer",), options=None, pool=False, unit="candidates"):
    return StrategySpec(name="s", strategy=strategy, budgets=tuple(budgets), budget_unit=unit,
                        verifiers=tuple(verifiers), options=dict(options or {}), pool=pool)


def test_plan_maps_budgets_onto_options():
    from llasa_search.study.executors.engine import plan_search

    p = plan_search(_spec("best_of_n", [8], ["sim_resemblyzer", "pocketsphinx"], {"temperature": 0.9}, pool=True), 8)
    assert p.options["n"] == 8 and p.options["verifiers"] == ["sim_resemblyzer", "pocketsphinx"]
    assert p.options["selection"] == {"rule": "lexicographic"} and p.sampler == {"temperature": 0.9}
    p = plan_search(_spec("beam", options={"beam_width": 2}), 8)
    assert (p.options["beam_width"], p.options["expansions"], p.options["prm_verifier"]) == (2, 4, "sim_resemblyzer")
    p = plan_search(_spec("beam", options={"expansions": 2}), 8)
    assert p.options["beam_width"] == 4
    p = plan_search(_spec("dvts", options={"expansions": 2}), 8)
    assert p.options["subtrees"] == 4          # beam_width defaults to 1 for dvts
    p = plan_search(_spec("staged", verifiers=["sim_resemblyzer", "pocketsphinx"], options={"beam_width": 2}), 8)
    assert (p.options["expansions"], p.options["n_final"], p.options["orm_verifier"]) == (4, 4, "pocketsphinx")
    p = plan_search(_spec("sampling", [1]), 1)
    assert p.options["score_with"] == ["sim_resemblyzer"]


def test_plan_token_budgets_reach_the_strategy():
    from llasa_search.study.executors.engine import plan_search

    p = plan_search(_spec("best_of_n", unit="generated_tokens"), 400)
    assert (p.options["budget_tokens"], p.options["budget_unit"], p.options["n"]) == (400, "generated_tokens", 4)
    p = plan_search(_spec("beam", unit="forwarded_tokens", options={"beam_width": 2, "expansions": 2}), 900)
    assert (p.options["budget_tokens"], p.options["budget_unit"]) == (900, "forwarded_tokens")
    assert p.options["prm_verifier"] == "sim_resemblyzer"


@pytest.mark.parametrize("spec, budget, message", [
    (_spec("beam", options={"beam_widht": 2}), 4, "beam_widht"),
    (_spec("staged", options={"prm_secnds": 1.0}), 4, "prm_secnds"),
    (_spec("best_of_n", options={"n": 4}), 4, "set by the budget"),
    (_spec("beam", options={"beam_width": 2, "expansions": 2}), 4, "budget changes nothing"),
    (_spec("beam", options={"beam_width": 4}), 2, "below"),
    (_spec("best_of_n", unit="generated_tokens", pool=True), 400, "candidates"),
    (_spec("sampling", [1], unit="generated_tokens"), 400, "candidates"),
    (_spec("sampling", [2]), 2, "budgets must be [1]"),
    (_spec("beam", options={"aggregate": "median"}), 4, "aggregate"),
])
def test_plan_rejects_bad_options_clearly(spec, budget, message):
    from llasa_search.study.executors.engine import plan_search

    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        plan_search(spec, budget)


def test_sweep_fails_early_on_an_option_typo(tmp_path, capsys):
    from llasa_search.cli import main

    d = yaml.safe_load(DEMO.read_text())
    d["strategies"][2]["options"]["step_tokenz"] = 25
    cfg = tmp_path / "typo.yaml"
    cfg.write_text(yaml.safe_dump(d))
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "step_tokenz" in err and "beam" in err
    assert not (tmp_path / "out" / "records.jsonl").exists()


def test_former_module_name_still_imports():
    from llasa_search.study.executors import engine, search

    assert search.plan_search is engine.plan_search and search.SearchExecutor is engine.SearchExecutor


def test_make_executor_validates_config():
    from llasa_search.study.executors import get_executor

    d = yaml.safe_load(DEMO.read_text())
    ex = get_executor("search", config=parse_config(d))
    assert ex.name == "search" and callable(ex)


# -- one failing verifier on one candidate loses only that score --------------------------------------------------------

class _Flaky:
    """Raises on any batch holding an all-zero wave (as a crashing model would)."""
    def score(self, waves, sr, ctxs):
        from verifiers.base import VerifierResult

        if any(not np.any(w) for w in waves):
            raise RuntimeError("model crashed")
        return [VerifierResult(score=float(np.mean(np.abs(w))), metrics={"level": float(np.mean(np.abs(w)))})
                for w in waves]


def test_evaluation_isolates_a_failing_candidate():
    from verifiers.base import VerifyContext

    from llasa_search.study.executors.engine import SearchExecutor

    ex = SearchExecutor()
    ex._verifiers["flaky"] = _Flaky()
    waves = [np.full(16000, 0.1, np.float32), np.zeros(16000, np.float32), np.full(16000, 0.3, np.float32)]
    out = ex.evaluate("flaky", waves, VerifyContext(text="hi"), 16000)
    assert out[0]["score"] == pytest.approx(0.1) and out[2]["score"] == pytest.approx(0.3)
    assert math.isnan(out[1]["score"]) and out[1]["ok"] is False and "model crashed" in out[1]["error"]
