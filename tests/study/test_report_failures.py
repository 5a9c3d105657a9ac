"""Failed metrics are counted by a named policy, never silently dropped from the means (issue 8 item 7)."""
import math

import pandas as pd
import pytest

from llasa_search.study.aggregate import records_frame
from llasa_search.study.failures import FailedMetricError
from llasa_search.study.report import make_report
from llasa_search.study.store import ResultStore
from llasa_search.study.tables import compute_table


def _asr(wer, ref_len=4):
    return {"wer": wer, "substitutions": round(wer * ref_len), "deletions": 0, "insertions": 0, "ref_len": ref_len,
            "score": -wer}


def _rec(utt, metrics, strategy="base", budget=1, cands=None):
    return {"utt_id": utt, "config_name": f"d/m/{strategy}/candidates={budget}", "seed": 0, "dataset": "d",
            "model": {"name": "m"}, "strategy": strategy, "strategy_kind": "sampling", "pool": cands is not None,
            "pool_budgets": [1, 2] if cands else None, "budget": {"unit": "candidates", "value": budget},
            "search_verifiers": ["sim_resemblyzer"] if cands else [],
            "evaluation_verifiers": ["whisper", "sim_ecapa"],
            "item": {"text": "one two three four", "language": "en"}, "search_scores": {}, "metrics": metrics,
            "candidates": cands or [], "ledger": {"generated_tokens": 10, "candidates": budget, "time_s": {"total": 1}}}


FAILED_ASR = {"score": -math.inf, "ok": False, "flags": ["empty"], "error": "audio rejected: empty"}
FAILED_SIM = {"score": -1.0, "ok": False, "flags": ["too_short"]}
RECORDS = [
    _rec("u1", {"whisper": _asr(0.25), "sim_ecapa": {"sim": 0.6, "score": 0.6}}),
    _rec("u2", {"whisper": _asr(0.5), "sim_ecapa": {"sim": 0.8, "score": 0.8}}),
    _rec("u3", {"whisper": FAILED_ASR, "sim_ecapa": FAILED_SIM}),
    _rec("u4", {"sim_ecapa": {"sim": 0.7, "score": 0.7}}),           # whisper's metrics missing altogether
]


def _cell(long, metric):
    return long[long["metric"] == metric].iloc[0]


def test_worst_policy_counts_failures_as_worst_values():
    long = compute_table(records_frame(RECORDS), n_boot=50)
    wer = _cell(long, "WER")
    assert wer["mean"] == pytest.approx(100 * (0.25 + 0.5 + 1.0 + 1.0) / 4)
    assert wer["n_utts"] == 4 and wer["failed"] == 2 and wer["outputs"] == 4
    corpus = _cell(long, "WER corpus")        # failed: every reference word an error (4 words each)
    assert corpus["mean"] == pytest.approx(100 * (1 + 2 + 4 + 4) / 16)
    sim = _cell(long, "SIM (sim_ecapa)")
    assert sim["mean"] == pytest.approx((0.6 + 0.8 + 0.0 + 0.7) / 4) and sim["failed"] == 1


def test_drop_policy_leaves_failures_out_but_counts_them():
    long = compute_table(records_frame(RECORDS, failure_policy="drop"), n_boot=50)
    wer = _cell(long, "WER")
    assert wer["mean"] == pytest.approx(100 * 0.375) and wer["n_utts"] == 2 and wer["failed"] == 2


def test_error_policy_names_the_failure():
    with pytest.raises(FailedMetricError, match="whisper failed on 'u3'.*empty"):
        records_frame(RECORDS, failure_policy="error")
    with pytest.raises(ValueError, match="unknown failure policy"):
        records_frame(RECORDS, failure_policy="ignore")


def test_pool_failures_count_as_worst_for_the_chosen_candidate():
    cands = [{"index": 0, "seed": 0, "chosen": True, "search_scores": {"sim_resemblyzer": 0.9},
              "metrics": {"whisper": FAILED_ASR, "sim_ecapa": {"sim": 0.5, "score": 0.5}}},
             {"index": 1, "seed": 0, "chosen": False, "search_scores": {"sim_resemblyzer": 0.1},
              "metrics": {"whisper": _asr(0.0), "sim_ecapa": {"sim": 0.7, "score": 0.7}}}]
    df = records_frame([_rec("u1", cands[0]["metrics"], "bon", 2, cands)], ties="first")
    row = df.set_index("budget").loc[2]
    assert row["m:whisper:wer"] == pytest.approx(1.0) and row["f:whisper"] == pytest.approx(1.0)
    row1 = df.set_index("budget").loc[1]      # n=1: either candidate with probability 1/2
    assert row1["m:whisper:wer"] == pytest.approx(0.5) and row1["f:whisper"] == pytest.approx(0.5)


def test_report_table_has_failed_column_and_policy_note(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        for r in RECORDS:
            s.append(r)
    make_report(tmp_path, tmp_path / "r", x_axes=("candidates",), n_boot=50, formats=("png",))
    md = (tmp_path / "r" / "table.md").read_text()
    assert "| m | base | 1 candidate | 4 |" in md and "d whisper: 2 of 4; d sim_ecapa: 1 of 4" in md
    wide = pd.read_csv(tmp_path / "r" / "table.csv")
    assert wide.loc[0, "d WER failed"] == 2 and wide.loc[0, "d WER n"] == 4
    assert "failure policy `worst`" in (tmp_path / "r" / "README.md").read_text()


def test_pool_drop_policy_leaves_out_only_the_failed_candidates_weight():
    """drop: a pool row is the expected metric of the chosen candidate given that it did not fail (what averaging the
    seeds that did not fail estimates for separate runs); one failed candidate must not drop the utterance at every n."""
    ok1, ok2 = _asr(0.25), _asr(0.75)
    cands = [{"index": 0, "seed": 0, "chosen": True, "search_scores": {"sim_resemblyzer": 0.9},
              "metrics": {"whisper": FAILED_ASR}},
             {"index": 1, "seed": 1, "chosen": False, "search_scores": {"sim_resemblyzer": 0.5},
              "metrics": {"whisper": ok1}},
             {"index": 2, "seed": 2, "chosen": False, "search_scores": {"sim_resemblyzer": 0.1},
              "metrics": {"whisper": ok2}}]
    rec = _rec("u1", cands[0]["metrics"], "bon", 3, cands)
    rec["pool_budgets"] = [1, 2, 3]
    rows = records_frame([rec], failure_policy="drop").set_index("budget")
    assert rows.loc[1, "m:whisper:wer"] == pytest.approx(0.5)           # mean of the two that did not fail
    assert rows.loc[1, "f:whisper"] == pytest.approx(1 / 3)
    # n=2: the failed candidate is chosen in 2 of 3 pairs; the pair {1, 2} chooses candidate 1 (WER 0.25)
    assert rows.loc[2, "m:whisper:wer"] == pytest.approx(0.25)
    assert math.isnan(rows.loc[3, "m:whisper:wer"]) and rows.loc[3, "f:whisper"] == pytest.approx(1.0)


def test_corpus_wer_curve_leaves_out_dropped_utterances_as_the_table_does():
    """drop: the corpus-WER curve point must be the table's number (failed utterance left out), not NaN."""
    from llasa_search.study.plots import curve_points
    from llasa_search.study.tables import metric_specs

    df = records_frame(RECORDS, failure_policy="drop")
    spec = next(s for s in metric_specs(df, "d") if s.label == "WER corpus")
    pts = curve_points(df, spec, "candidates", n_boot=50)
    table = _cell(compute_table(df, n_boot=50), "WER corpus")
    assert pts["mean"].iloc[0] == pytest.approx(table["mean"]) == pytest.approx(100 * 3 / 8)
