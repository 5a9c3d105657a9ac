"""Token budgets: each strategy spends `budget_tokens` as its docstring says, measured by the ledger."""
from __future__ import annotations

import pytest

from llasa_search.engine import SynthesisRequest
from llasa_search.errors import ConfigError
from llasa_search.generation import SamplingConfig
from llasa_search.search import run_search_with_ledger

TEXTS = ["A first short sentence.", "The second one is a little longer than that."]


def _run(engine, reward, strategy, options, sampling=None):
    reqs = [SynthesisRequest(text=t, request_id=f"u{i}") for i, t in enumerate(TEXTS)]
    return run_search_with_ledger(engine, reqs, strategy, options, verifiers=reward, seed=3, sampling=sampling)


def test_best_of_n_spends_token_budget_in_waves(engine, reward):
    wave, budget = 2, 150
    results, _ = _run(engine, reward, "best_of_n", {"n": wave, "verifiers": ["frame_energy"], "max_new_tokens": 40,
                                                    "budget_tokens": budget})
    for res in results:
        finals = [c for c in res.candidates if c.role == "final"]
        spent = res.ledger["generated_tokens"]
        assert len(finals) % wave == 0 and len(finals) > wave  # several waves were needed
        assert spent >= budget
        # it stopped after the first wave that reached the budget: without the last wave it was under budget
        last_wave = sum(len(c.generated_ids) for c in finals[-wave:])
        assert spent - last_wave < budget
        assert all(c.finished for c in finals)


def test_best_of_n_without_budget_draws_exactly_n(engine, reward):
    results, _ = _run(engine, reward, "best_of_n", {"n": 3, "verifiers": ["frame_energy"], "max_new_tokens": 40})
    assert all(len([c for c in r.candidates if c.role == "final"]) == 3 for r in results)


# Hard budgets (issue 8.4): the decision is taken at step boundaries, so an utterance spends at most its budget plus
# one step of its live rows (tree strategies: live children x step_tokens; sampling, best_of_n and staged's
# completions shrink their last chunk: less than one token per live row), and a capped strategy never spends more
# than it does without a budget.
HARD = {
    "sampling": ({}, 1),
    "best_of_n": ({"n": 3, "verifiers": ["frame_energy"]}, 3),
    "beam": ({"prm_verifier": "frame_energy", "beam_width": 2, "expansions": 2, "step_tokens": 10}, 2 * 2 * 10),
    "dvts": ({"prm_verifier": "frame_energy", "subtrees": 2, "expansions": 2, "step_tokens": 10}, 2 * 2 * 10),
    "staged": ({"prm_verifier": "frame_energy", "beam_width": 2, "expansions": 2, "step_tokens": 10,
                "prm_steps": 2, "n_final": 4}, 2 * 2 * 10),
}


@pytest.mark.parametrize("strategy", list(HARD))
def test_token_budget_is_hard(engine, reward, strategy):
    options, one_step = HARD[strategy]
    options = {**options, "max_new_tokens": 80}
    free, _ = _run(engine, reward, strategy, options)
    for budget in (25, 60, 150):
        capped, _ = _run(engine, reward, strategy, {**options, "budget_tokens": budget})
        for f, c in zip(free, capped):
            spent = c.ledger["generated_tokens"]
            assert spent <= max(budget, one_step) + one_step, f"{strategy} budget {budget}: spent {spent}"
            if strategy != "best_of_n":  # best_of_n's budget is a target (waves of n), the others' a cap
                assert spent <= f.ledger["generated_tokens"]
            finals = [x for x in c.candidates if x.role == "final"]
            chosen = c.chosen
            if not chosen.finished:  # never silently: an unfinished choice is flagged, on the result too
                assert chosen.flags.get("budget") == ["budget_exhausted"]
                assert "budget_exhausted" in c.flags
                assert not any(x.finished for x in finals)


def test_budget_runs_out_before_anything_finishes(engine, reward):
    """A budget too small for any candidate to finish: the best live prefix is returned, flagged."""
    options = {"prm_verifier": "frame_energy", "beam_width": 2, "expansions": 2, "step_tokens": 5,
               "max_new_tokens": 80}
    results, _ = _run(engine, reward, "beam", {**options, "budget_tokens": 20},
                      SamplingConfig(min_new_tokens=60))
    for res in results:
        assert res.flags == ["budget_exhausted"] and not res.chosen.finished
        assert res.chosen.flags == {"budget": ["budget_exhausted"]}
        assert res.ledger["generated_tokens"] <= 20 + 20


def test_forwarded_token_budget_unit(engine, reward):
    results, _ = _run(engine, reward, "best_of_n", {"n": 2, "verifiers": ["frame_energy"], "max_new_tokens": 30,
                                                    "budget_tokens": 200, "budget_unit": "forwarded_tokens"})
    for res in results:
        assert res.ledger["forwarded_tokens"] >= 200


@pytest.mark.parametrize("options", [{"budget_tokens": 0}, {"budget_unit": "seconds"}])
def test_bad_budget_options_are_rejected(engine, reward, options):
    with pytest.raises(ConfigError):
        _run(engine, reward, "best_of_n", {"n": 2, **options})


def test_max_steps_completes_kept_beams_in_one_batch(engine, reward):
    options = {"prm_verifier": "frame_energy", "beam_width": 2, "expansions": 2, "step_tokens": 10,
               "max_steps": 2, "max_new_tokens": 60}
    results, _ = _run(engine, reward, "beam", options, SamplingConfig(min_new_tokens=30))
    for res in results:
        assert max(c.step for c in res.candidates if c.role == "partial") <= 2
        finals = [c for c in res.candidates if c.role == "final"]
        assert len(finals) == 2 and all(c.finished for c in finals) and not res.flags
        assert all(len(c.generated_ids) > 20 for c in finals)  # completed past the 2 scored steps
