"""The report's best-of-n pool estimator must model the choice the search makes: its rows are the exact expectation of
SelectionRule.choose (search/selection.py) over every n-subset of the pool, and a pool whose selection rule it cannot
model is refused when planned instead of being reported with the wrong numbers."""
import itertools
import math

import numpy as np
import pytest

from llasa_search.search.selection import SelectionRule
from llasa_search.study.aggregate import lexicographic_scores
from llasa_search.study.bestofn import selection_weights
from llasa_search.study.config import ConfigError, StrategySpec
from llasa_search.study.executors.engine import plan_search


def _search_choice_expectation(scores, values, n, verifiers):
    """Enumerate every n-subset and every order of the random tie-break keys; average what the search chooses."""
    rule = SelectionRule(rule="lexicographic")
    total, count = 0.0, 0
    for sub in itertools.combinations(range(len(scores)), n):
        for keys in itertools.permutations(range(n)):
            total += values[sub[rule.choose([scores[i] for i in sub], verifiers, list(keys))]]
            count += 1
    return total / count


def test_pool_estimator_equals_the_searchs_own_choice_over_all_subsets():
    rng = np.random.default_rng(5)
    verifiers = ["a", "b"]
    special = [math.nan, -math.inf, None]
    for _ in range(40):
        N = int(rng.integers(2, 6))
        scores = []
        for _ in range(N):
            row = {v: float(rng.integers(0, 3)) for v in verifiers}   # few values: ties on a, broken by b
            if rng.random() < 0.3:
                row[verifiers[int(rng.integers(2))]] = special[int(rng.integers(3))]   # failed or missing score
            scores.append(row)
        values = rng.normal(size=N)
        s = lexicographic_scores([{"search_scores": r} for r in scores], verifiers)
        for n in range(1, N + 1):
            got = float(np.dot(selection_weights(s, n, "random"), values))
            assert got == pytest.approx(_search_choice_expectation(scores, values, n, verifiers), abs=1e-12)


def _pool(verifiers, **options):
    return StrategySpec(name="bon", strategy="best_of_n", budgets=(1, 4), verifiers=tuple(verifiers),
                        options=options, pool=True)


@pytest.mark.parametrize("selection", ["weighted", {"rule": "lexicographic", "tolerance": 0.01},
                                       {"rule": "lexicographic", "order": ["b", "a"]},
                                       {"rule": "threshold", "constraints": {"a": -0.1}, "objective": "b"}])
def test_pool_refuses_a_selection_rule_the_estimator_cannot_model(selection):
    with pytest.raises(ConfigError, match="pool"):
        plan_search(_pool(["a", "b"], selection=selection), 4)


def test_pool_accepts_the_rules_it_models():
    assert plan_search(_pool(["a", "b"]), 4).options["selection"] == {"rule": "lexicographic"}
    plan_search(_pool(["a", "b"], selection={"rule": "lexicographic", "order": ["a", "b"]}), 4)
    plan_search(_pool(["a"], selection="weighted"), 4)      # one verifier: every rule but first/threshold is argmax


def test_pool_with_text_chunking_is_refused_before_any_work():
    """A chunked result evaluates only the joined chosen audio: every other pool candidate would count as failed."""
    from pathlib import Path

    import yaml

    from llasa_search.study.config import parse_config
    from llasa_search.study.executors.engine import make_executor

    d = yaml.safe_load((Path(__file__).resolve().parents[2] / "experiments" / "configs" / "demo.yaml").read_text())
    config = parse_config(d)
    assert any(s.pool for s in config.strategies)
    make_executor(config)
    with pytest.raises(ConfigError, match="chunking"):
        make_executor(config, chunking=True)
