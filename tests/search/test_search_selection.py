"""Selection rules (llasa_search/search/selection.py) on hand-made score tables. Scores are higher-is-better
(a WER verifier's score is -WER). A failed scoring (-inf, NaN or None/missing) never wins."""
from __future__ import annotations

import math

import pytest

from llasa_search.errors import ConfigError
from llasa_search.search.selection import SelectionRule, weighted_scores

INF = math.inf


def test_single_verifier_is_argmax_and_first_of_ties():
    rule = SelectionRule()
    assert rule.choose([{"sim": 0.1}, {"sim": 0.7}, {"sim": 0.3}], ["sim"]) == 1
    assert rule.choose([{"sim": 0.5}, {"sim": 0.7}, {"sim": 0.7}], ["sim"]) == 1
    assert rule.choose([{"sim": 0.5}], ["sim"]) == 0
    assert rule.choose([{"sim": 0.5}, {"sim": 0.9}], []) == 0  # no verifier: the first candidate


@pytest.mark.parametrize("bad", [-INF, INF * 0, None, "missing"])  # INF*0 is NaN
def test_failed_scores_never_win(bad):
    row = {} if bad == "missing" else {"sim": bad, "wer": bad}
    for rule in (SelectionRule(), SelectionRule("lexicographic"),
                 SelectionRule("threshold", constraints={"wer": -0.5}, objective="sim")):
        # a lone scored candidate beats a failed one, even with terrible scores
        table = [row, {"sim": -0.99, "wer": -0.9}, row]
        assert rule.choose(table, ["sim"]) == 1
        assert rule.choose(table, ["sim", "wer"]) == 1


def test_all_failed_still_chooses_deterministically():
    table = [{"sim": -INF}, {"sim": None}]
    assert SelectionRule().choose(table, ["sim"]) == 0
    assert SelectionRule().choose(table, ["sim", "wer"]) == 0


def test_weighted_normalises_each_verifier_then_sums():
    # wer scores are tiny numbers; unnormalised, sim would dominate. Normalised: c0 = 1 + 0 = 1,
    # c1 = 0 + 1 = 1, c2 = 0.5 + 0.75 = 1.25 -> c2.
    table = [{"sim": 0.9, "wer": -0.10}, {"sim": 0.5, "wer": -0.02}, {"sim": 0.7, "wer": -0.04}]
    assert weighted_scores(table, ["sim", "wer"]) == pytest.approx([1.0, 1.0, 1.25])
    assert SelectionRule("weighted").choose(table, ["sim", "wer"]) == 2
    # weights shift the choice
    assert SelectionRule("weighted", weights={"sim": 3.0}).choose(table, ["sim", "wer"]) == 0
    assert SelectionRule("weighted", weights={"wer": 3.0}).choose(table, ["sim", "wer"]) == 1
    # a failed score counts as -1 for that verifier (below every normalised score)
    table[2]["wer"] = -INF
    assert weighted_scores(table, ["sim", "wer"])[2] == pytest.approx(0.5 - 1.0)
    # a verifier that scores every candidate equally contributes the same to all
    assert weighted_scores([{"a": 1.0, "b": 2}, {"a": 0.0, "b": 2}], ["a", "b"]) == [2.0, 1.0]


def test_lexicographic_order_and_tolerance():
    table = [{"wer": -0.10, "sim": 0.9}, {"wer": -0.02, "sim": 0.5}, {"wer": -0.03, "sim": 0.8}]
    assert SelectionRule("lexicographic", order=["wer", "sim"]).choose(table, ["sim", "wer"]) == 1
    assert SelectionRule("lexicographic", order=["sim", "wer"]).choose(table, ["sim", "wer"]) == 0
    # within tolerance of the best wer, the tie is broken by sim
    assert SelectionRule("lexicographic", order=["wer", "sim"], tolerance=0.015).choose(table, ["sim", "wer"]) == 2
    # default order = the verifiers' order
    assert SelectionRule("lexicographic").choose(table, ["wer", "sim"]) == 1


def test_threshold_best_objective_among_qualifying():
    table = [{"wer": -0.10, "sim": 0.9}, {"wer": -0.04, "sim": 0.6}, {"wer": -0.05, "sim": 0.7},
             {"wer": -0.01, "sim": 0.3}]
    rule = SelectionRule("threshold", constraints={"wer": -0.05}, objective="sim")  # WER <= 5 %
    assert rule.choose(table, ["sim", "wer"]) == 2
    strict = SelectionRule("threshold", constraints={"wer": -0.02}, objective="sim")
    assert strict.choose(table, ["sim", "wer"]) == 3
    # nobody qualifies: the candidate closest to qualifying
    none = SelectionRule("threshold", constraints={"wer": 0.0, "sim": 0.95}, objective="sim")
    assert none.choose(table, ["sim", "wer"]) == 0  # shortfall 0.10 + 0.05 vs 0.04 + 0.35 ...
    assert none.choose([{"wer": -0.3, "sim": 0.9}, {"wer": -0.1, "sim": 0.9}], ["sim", "wer"]) == 1


def test_rule_from_config_values_and_errors():
    assert SelectionRule.from_any(None).rule == "weighted"
    assert SelectionRule.from_any("lexicographic").rule == "lexicographic"
    r = SelectionRule.from_any({"rule": "threshold", "constraints": {"wer": -0.1}, "objective": "sim"})
    assert r.objective == "sim"
    with pytest.raises(ConfigError, match="weighted"):
        SelectionRule("majority")
    with pytest.raises(ConfigError, match="constraints"):
        SelectionRule("threshold")
    with pytest.raises(ValueError):
        SelectionRule().choose([], ["sim"])


def test_ties_go_to_the_random_key_not_the_position():
    """Strategies pass each candidate's seeded random key, so a tie never favours the earliest (shortest) finisher."""
    rule = SelectionRule()
    assert rule.choose([{"sim": 0.7}, {"sim": 0.7}, {"sim": 0.1}], ["sim"], tie_keys=[3, 9, 99]) == 1
    lex = SelectionRule("lexicographic", tolerance=0.1)
    assert lex.choose([{"a": 1.0, "b": 0.5}, {"a": 0.95, "b": 0.5}], ["a", "b"], tie_keys=[1, 2]) == 1
    assert SelectionRule("first").choose([{"sim": 0.1}, {"sim": 0.9}], ["sim"], tie_keys=[0, 1]) == 0
