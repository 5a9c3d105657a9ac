"""Config validation: unknown option names and bad values raise ConfigError naming the valid options; a
verifier that cannot judge partial audio, used as a process reward, fails with a clear message."""
from __future__ import annotations

import pytest

from llasa_search.errors import ConfigError
from llasa_search.search import available_strategies, make_strategy, run_search, strategy_class

from search_helpers import text_requests

STRATEGIES = ["sampling", "best_of_n", "beam", "dvts", "staged"]


def test_registry_lists_every_strategy():
    assert set(STRATEGIES) <= set(available_strategies())
    with pytest.raises(KeyError, match="available: .*beam"):
        strategy_class("greedy_beam")


@pytest.mark.parametrize("name", STRATEGIES)
def test_unknown_option_lists_valid_options(name):
    with pytest.raises(ConfigError) as err:
        make_strategy(name, {"max_new_tokens": 10, "beam_widht": 2})
    msg = str(err.value)
    assert "beam_widht" in msg and "valid options" in msg and "max_new_tokens" in msg
    import dataclasses

    for field in dataclasses.fields(strategy_class(name).config_class):
        assert field.name in msg


@pytest.mark.parametrize("name, options, match", [
    ("sampling", {"max_new_tokens": 0}, "max_new_tokens"),
    ("best_of_n", {"n": 0}, "n must be >= 1"),
    ("beam", {"beam_width": 0}, "beam_width"),
    ("beam", {"expansions": -1}, "expansions"),
    ("beam", {"step_tokens": 0}, "step_tokens"),
    ("beam", {"aggregate": "median"}, "last"),
    ("beam", {"lookahead": -1}, "lookahead"),
    ("beam", {"beam_width": "two"}, "BeamConfig"),
    ("dvts", {"subtrees": 0}, "subtrees"),
    ("staged", {"n_final": 0}, "n_final"),
    ("staged", {"prm_seconds": -1.0}, "prm_seconds"),
    ("staged", {"prm_seconds": 1.0, "prm_steps": 2}, "not both"),
    ("staged", {"prm_steps": 0}, "prm_steps"),
    ("staged", {"aggregate": "max"}, "aggregate"),
])
def test_bad_values_raise_config_error(name, options, match):
    with pytest.raises(ConfigError, match=match):
        make_strategy(name, options)


def test_good_configs_round_trip():
    s = make_strategy("beam", {"beam_width": 3, "final_verifiers": "whisper", "aggregate": "min"})
    assert s.config.final_verifiers == ("whisper",)
    again = make_strategy("beam", s.config.to_dict())
    assert again.config == s.config
    assert make_strategy("best_of_n", {"verifiers": "sim_resemblyzer"}).config.verifiers == ("sim_resemblyzer",)
    assert make_strategy("staged", {"prm_seconds": 1.0, "step_tokens": 25}).config.max_steps() == 2
    assert make_strategy("staged", {"prm_seconds": None}).config.max_steps() is None
    # prm_steps alone (as `-o prm_steps=3` on the CLI) overrides the default prm_seconds
    staged = make_strategy("staged", {"prm_steps": 3})
    assert staged.config.max_steps() == 3
    assert make_strategy("staged", staged.config.to_dict()).config == staged.config


def test_config_of_another_strategy_is_refused():
    beam_cfg = make_strategy("beam").config
    with pytest.raises(ConfigError, match="BestOfNConfig"):
        make_strategy("best_of_n", beam_cfg)


def test_run_search_rejects_bad_options(engine):
    with pytest.raises(ConfigError, match="valid options"):
        run_search(engine, text_requests(1), "beam", {"beam_size": 4})


@pytest.mark.parametrize("strategy, options", [
    ("beam", {"prm_verifier": "outcome_only"}),
    ("dvts", {"prm_verifier": "outcome_only", "subtrees": 2}),
    ("staged", {"prm_verifier": "outcome_only", "prm_seconds": 0.2}),
])
def test_outcome_only_verifier_as_prm_fails_clearly(engine, outcome_only, strategy, options):
    cfg = {"step_tokens": 5, "max_new_tokens": 10, "beam_width": 1, "expansions": 2, **options}
    with pytest.raises(ValueError, match="only judges complete utterances.*outcome"):
        run_search(engine, text_requests(1), strategy, cfg, {"outcome_only": outcome_only})
    assert outcome_only.calls == 0  # refused before it scored anything


def test_outcome_only_verifier_is_fine_for_best_of_n_and_as_final(engine, outcome_only, reward):
    res = run_search(engine, text_requests(1), "best_of_n",
                     {"n": 2, "verifiers": ["outcome_only"], "max_new_tokens": 10}, {"outcome_only": outcome_only})
    assert "outcome_only" in res[0].scores
    res = run_search(engine, text_requests(1), "beam",
                     {"prm_verifier": "frame_energy", "final_verifiers": ["outcome_only"], "beam_width": 1,
                      "expansions": 2, "step_tokens": 5, "max_new_tokens": 10},
                     {**reward, "outcome_only": outcome_only})
    assert "outcome_only" in res[0].scores and outcome_only.partial_calls == 0


def test_missing_verifier_is_named(engine, reward):
    with pytest.raises(Exception, match="no_such_verifier"):
        run_search(engine, text_requests(1), "best_of_n", {"n": 2, "verifiers": ["no_such_verifier"],
                                                           "max_new_tokens": 5}, reward)
