"""A budget in candidates is run exactly as labelled: budget // fixed would run fewer candidates than the table says."""
import pytest

from llasa_search.errors import ConfigError
from llasa_search.search import strategy_class


@pytest.mark.parametrize("name, options, budget, want", [
    ("beam", {"beam_width": 4}, 16, {"expansions": 4}),
    ("dvts", {"expansions": 4}, 8, {"subtrees": 2}),
    ("best_of_n", {}, 5, {"n": 5}),
])
def test_budget_sets_the_free_option(name, options, budget, want):
    opts, set_by = strategy_class(name).options_for_budget(budget, "candidates", options, ["sim_resemblyzer"])
    assert set_by == want and all(opts[k] == v for k, v in want.items())


@pytest.mark.parametrize("name, options, budget", [
    ("beam", {"beam_width": 4}, 6),          # would run 4 candidates per step, labelled 6
    ("dvts", {"expansions": 4}, 10),         # would run 8
    ("staged", {"beam_width": 4}, 6),
])
def test_budget_not_a_multiple_of_the_fixed_options_is_refused(name, options, budget):
    with pytest.raises(ConfigError, match="multiple"):
        strategy_class(name).options_for_budget(budget, "candidates", options, ["sim_resemblyzer"])
